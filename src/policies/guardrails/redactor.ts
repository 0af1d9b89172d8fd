import type { GuardrailsConfig } from '../../config/guardrails-schema.js';
import { AllowList } from './allow-list.js';
import { createDetector } from './detect/index.js';

/**
 * Masks every kind of personal data and secret the detectors know (built-ins and custom entities),
 * for text that is stored rather than sent: `[EMAIL]`, `[SSN]`, `[SECRET]`, ... Allow-listed values stay.
 */
export function createRedactor(config: GuardrailsConfig): (text: string) => string {
  const detector = createDetector({ custom: config.custom_entities.map((entity) => ({ name: entity.name, pattern: entity.pattern, validator: entity.validator })) });
  const allowed = new AllowList(config.allow_patterns);
  return (text) => {
    const findings = detector.detect(text).sort((a, b) => a.sourceStart - b.sourceStart);
    let out = '';
    let cursor = 0;
    for (const finding of findings) {
      if (finding.sourceStart < cursor) continue;
      const value = text.slice(finding.sourceStart, finding.sourceEnd);
      if (allowed.allows(value)) continue;
      out += `${text.slice(cursor, finding.sourceStart)}[${finding.type.toUpperCase()}]`;
      cursor = finding.sourceEnd;
    }
    return cursor === 0 ? text : out + text.slice(cursor);
  };
}
