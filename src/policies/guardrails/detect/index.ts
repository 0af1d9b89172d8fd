/** Guardrail detection: normalization, entity detectors, injection heuristics, stream scanning, tokenization. */
export { createDetector, resolveOverlaps, type Detector } from './detector.js';
export { INJECTION_THRESHOLD, SIGNAL_WEIGHTS, scoreInjection, stripInjection, type InjectionScore, type InjectionSignal } from './injection.js';
export { normalize, OffsetMap, type NormalizedText } from './normalize.js';
export { StreamScanner, type OnFinding, type StreamScannerOptions } from './stream.js';
export { BUILT_IN_ENTITIES, type BuiltInEntity, type CustomEntity, type DetectorOptions, type Finding, type RawFinding, type SecretSubtype } from './types.js';
export { ibanValid, luhnValid } from './validators.js';
export { PlaceholderVault, RestoreStream, type RestoreOptions, type VaultFinding } from './vault.js';
