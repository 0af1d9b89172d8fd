/**
 * A phrase family of the injection heuristics. Only the regex source is used: all families are
 * joined into one regex (one scan instead of twenty), matched on lower-cased text for scoring and
 * case-insensitively for stripping, so sources are written in lower case.
 */
export interface InjectionPattern {
  signal: InjectionSignal;
  re: RegExp;
  /** Extra check on the match (e.g. a strong qualifier must be present). */
  check?: (match: string) => boolean;
}

/** Signals `scoreInjection` reports. */
export type InjectionSignal =
  | 'instruction_override'
  | 'role_play'
  | 'prompt_leak'
  | 'fake_role_marker'
  | 'unicode_tags'
  | 'bidi_control'
  | 'zero_width'
  | 'encoded_payload'
  | 'encoded_blob'
  | 'hidden_markup'
  | 'jailbreak_word';

/**
 * Weight of each signal: the chance it alone means an attack, as judged on the labelled set.
 * Signals combine as a noisy-OR: score = 1 - product(1 - weight) over distinct signals.
 */
export const SIGNAL_WEIGHTS: Readonly<Record<InjectionSignal, number>> = {
  instruction_override: 0.75,
  encoded_payload: 0.8,
  unicode_tags: 0.7,
  role_play: 0.6,
  prompt_leak: 0.5,
  fake_role_marker: 0.4,
  hidden_markup: 0.3,
  bidi_control: 0.3,
  jailbreak_word: 0.3,
  zero_width: 0.2,
  encoded_blob: 0.1,
};

// Words that make "ignore ... instructions" an override rather than "ignore the instructions on the box".
const STRONG_EN = /\b(?:all|any|every|your|previous|prior|above|preceding|earlier|initial|original|system|developer|safety|former|foregoing)\b/i;
const STRONG_FR = /\b(?:toutes?|tes|vos|pr[ée]c[ée]dentes|ant[ée]rieures|ci-dessus|initiales|d'origine|syst[èe]me)/i;
const STRONG_ES = /\b(?:todas|tus|sus|anteriores|previas|de arriba|iniciales|del sistema)\b/i;
const STRONG_DE = /\b(?:alle|deine|ihre|vorherigen|bisherigen|obigen|vorigen|ursprünglichen|system)/i;

const EN_QUALIFIERS = '(?:\\s+(?:all|any|every|each|of|the|your|my|these|those|prior|previous|above|preceding|earlier|initial|original|system|developer|former|foregoing|above-mentioned|existing|current|safety|other|given|stated)){1,5}';
const EN_NOUNS = '(?:instructions?|prompts?|rules?|directions?|directives?|guidelines?|commands?|constraints?|programming|guardrails?|restrictions?|polic(?:y|ies)|filters?|system messages?)';

/** Phrase families in English, German, French and Spanish, matched case-insensitively on normalized text. */
export const PATTERNS: readonly InjectionPattern[] = [
  // English overrides.
  { signal: 'instruction_override', re: new RegExp(`\\b(?:ignore|disregard|forget|skip|override|bypass|neglect|discard|abandon|do not follow|don't follow|stop following)${EN_QUALIFIERS}\\s+${EN_NOUNS}\\b`, 'gi'), check: (m) => STRONG_EN.test(m) },
  { signal: 'instruction_override', re: /\bforget (?:everything|all(?: of)? (?:that|this|the above))(?: (?:you (?:were|have been) told|above|before|so far|i said|you know))?\b/gi },
  { signal: 'instruction_override', re: /\b(?:new|updated|real|actual|revised) (?:system )?instructions?\s*:|\byour (?:new|real|actual) (?:task|instructions?|role|purpose|goal) (?:is|are)\b/gi },
  { signal: 'instruction_override', re: /\bthe (?:above|previous|prior|earlier) (?:instructions?|rules?|prompt) (?:are|were|is|was) (?:wrong|fake|void|cancelled|canceled|outdated|a test|no longer valid)\b/gi },
  { signal: 'instruction_override', re: /\b(?:system|admin|developer|root) override\b|\bsudo mode\b/gi },
  // "Ignore the above." / "disregard everything prior, then ...": the reference point as the object.
  { signal: 'instruction_override', re: /\b(?:ignore|disregard|forget)\s+(?:all\s+(?:of\s+)?)?(?:the\s+|everything\s+)?(?:above|previous|prior|preceding|foregoing)\b(?=\s*(?:[.,;:!]|and\b|then\b|$))/gim },
  // German.
  { signal: 'instruction_override', re: /\b(?:ignorier(?:e|en|t)?|vergiss|vergessen sie|missachte(?:n)?|übergehe|überspringe)(?:\s+(?:alle|die|deine|ihre|vorherigen|bisherigen|obigen|vorigen|ursprünglichen|vorangegangenen|bisher|gegebenen)){1,4}\s+(?:anweisungen|anweisung|instruktionen|befehle|regeln|vorgaben|richtlinien|systemanweisungen?|systemprompt|prompts?)\b/gi, check: (m) => STRONG_DE.test(m) },
  // French.
  { signal: 'instruction_override', re: /\b(?:ignore[zr]?|oublie[zr]?|ne tiens pas compte|ne tenez pas compte)\s+(?:de\s+|d')?(?:toutes?\s+)?(?:les|tes|vos|des|mes)\s+(?:instructions|consignes|r[èe]gles|directives|ordres)(?:\s+(?:pr[ée]c[ée]dentes|ant[ée]rieures|ci-dessus|initiales|d'origine|du syst[èe]me))?/gi, check: (m) => STRONG_FR.test(m) },
  // Spanish.
  { signal: 'instruction_override', re: /\b(?:ignora[rd]?|olvida[rd]?|haz caso omiso de|omite|no sigas)\s+(?:todas\s+)?(?:las|tus|sus)\s+(?:instrucciones|reglas|indicaciones|directrices|[óo]rdenes)(?:\s+(?:anteriores|previas|de arriba|iniciales|del sistema))?/gi, check: (m) => STRONG_ES.test(m) },
  // Role play and persona jailbreaks.
  { signal: 'role_play', re: /\byou are now (?:dan\b|in (?:developer|god|jailbreak|unrestricted|dan) mode|an? (?:unrestricted|unfiltered|uncensored|evil|jailbroken|rogue|amoral)|free from|no longer (?:bound|restricted|an ai|chatgpt|claude))/gi },
  { signal: 'role_play', re: /\byou are (?:an? )?(?:evil|unrestricted|unfiltered|uncensored|jailbroken|amoral|malicious) (?:ai|assistant|model|chatbot|version)\b/gi },
  { signal: 'role_play', re: /\bdo anything now\b|\b(?:developer|god|dan|jailbreak) mode (?:enabled|activated|on)\b|\b(?:enable|activate|enter) (?:developer|god|dan|jailbreak) mode\b/gi },
  { signal: 'role_play', re: /\b(?:pretend|imagine|act as if|role-?play as|act as) (?:that )?(?:you (?:are|were|have) )?(?:an? )?(?:unrestricted|unfiltered|uncensored|evil|amoral|jailbroken|no restrictions|no (?:ethical|moral) )/gi },
  { signal: 'role_play', re: /\b(?:answer|respond|reply|act|behave|talk|speak|write)\b[^.\n]{0,30}\bwithout (?:any )?(?:restrictions|limitations|filters|censorship|ethical|moral|safety)\b/gi },
  { signal: 'role_play', re: /\b(?:no longer bound by|not bound by|free (?:from|of)) (?:any |your )?(?:ethical|moral|content|safety|openai|anthropic)? ?(?:guidelines|restrictions|constraints|policies|rules|filters)\b/gi },
  { signal: 'role_play', re: /\bdu bist (?:jetzt|nun|ab sofort) (?:dan\b|ein(?:e)? (?:uneingeschränkte|unzensierte|böse))|\bentwicklermodus\b|\bohne (?:jegliche |irgendwelche )?(?:einschränkungen|filter|zensur)\b/gi },
  { signal: 'role_play', re: /\b(?:tu es|vous [êe]tes) maintenant (?:dan\b|libre|une? (?:ia|assistant) (?:sans|non censur))|\bmode d[ée]veloppeur\b|\bsans (?:aucune )?(?:restrictions?|limites?|censure|filtres?)\b/gi },
  { signal: 'role_play', re: /\bahora eres (?:dan\b|una? (?:ia|asistente) sin)|\bmodo desarrollador\b|\bsin (?:ninguna |ningún )?(?:restricci[oó]n(?:es)?|l[ií]mites|censura|filtros)\b/gi },
  // System prompt extraction.
  { signal: 'prompt_leak', re: /\b(?:reveal|show|print|repeat|output|display|tell me|give me|leak|dump|expose|write out|recite|what (?:is|are|was|were)) (?:me )?(?:your|the) (?:full |entire |complete |original |initial |hidden |secret |exact )*(?:system prompt|system message|initial instructions|hidden instructions|original instructions|instructions above|prompt above|developer (?:message|prompt)|pre-?prompt)\b/gi },
  { signal: 'prompt_leak', re: /\b(?:repeat|print|output) (?:all )?(?:the )?(?:words|text|everything) (?:above|before this)\b|\bzeige? (?:mir )?(?:deinen|den) (?:system ?prompt|systemanweisungen)\b|\br[ée]v[èe]le (?:ton|votre|le) (?:prompt|message) syst[èe]me\b|\brevela (?:tu|el) (?:prompt|mensaje) del sistema\b/gi },
  // Chat-template and role markers that try to open a new turn.
  { signal: 'fake_role_marker', re: /<\|(?:im_start|im_end|system|endoftext|start_header_id)\|>|\[\/?inst\]|<<\/?sys>>|<\/?system>|^\s*#{1,3}\s*(?:system|new instructions?)\s*:?\s*$|^\s*(?:system|assistant)\s*:/gim },
  { signal: 'jailbreak_word', re: /\bjailbr(?:eak|oken)\b|\bprompt injection\b/gi },
];
