import { NUMBER_ID_CONTEXT, SSN_CONTEXT, precededBy, push } from './context.js';
import type { RawFinding } from './types.js';

// Local part up to 64 (an apostrophe between letters allowed: o'brien@), labels up to 63, TLD of letters; Unicode letters allowed (IDN after NFKC).
const EMAIL_RE = /(?<![\p{L}\p{N}._%+\-]|[\p{L}\p{N}]')[\p{L}\p{N}_](?:[\p{L}\p{N}._%+\-]|'(?=[\p{L}\p{N}])){0,63}@((?:[\p{L}\p{N}](?:[\p{L}\p{N}\-]{0,61}[\p{L}\p{N}])?\.)+)(\p{L}{2,24})(?![\p{L}\p{N}\-]|\.[\p{L}\p{N}])/gu;
// "icon@2x.png", "logo@3x.svg": file names, not addresses. Only extensions that are not TLDs.
const FILE_EXTENSIONS = new Set(['png', 'jpg', 'jpeg', 'gif', 'svg', 'webp', 'bmp', 'ico', 'pdf', 'js', 'ts', 'tsx', 'jsx', 'css', 'scss', 'html', 'htm', 'json', 'yaml', 'yml', 'txt', 'lock', 'map']);

const EMAIL_AT_RE = new RegExp(EMAIL_RE.source, 'uy');
const LOCAL_CHAR = /^[\p{L}\p{N}._%+\-]$/u;

/**
 * E-mail addresses: `local@domain.tld`, Unicode letters allowed, file names like `icon@2x.png` excluded.
 * Works from each '@': the local part is the run of local-part characters before it, so the regex
 * only runs where an address can be.
 */
export function detectEmail(text: string, out: RawFinding[]): void {
  let at = text.indexOf('@');
  while (at >= 0) {
    let start = at;
    while (start > 0 && at - start <= 64 && isLocalChar(text, start - 1)) start -= 1;
    let next = at + 1;
    if (start < at) {
      EMAIL_AT_RE.lastIndex = start;
      const m = EMAIL_AT_RE.exec(text);
      if (m !== null && !FILE_EXTENSIONS.has((m[2] ?? '').toLowerCase())) {
        push(out, 'email', start, start + m[0].length);
        next = start + m[0].length;
      }
    }
    at = text.indexOf('@', next);
  }
}

/** A local-part character, or an apostrophe between two letters or digits (o'brien). */
function isLocalChar(text: string, index: number): boolean {
  const code = text.charCodeAt(index);
  if (code < 128) {
    if ((code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122)) return true;
    if (code === 46 || code === 95 || code === 37 || code === 43 || code === 45) return true;
    return code === 39 && index > 0 && /^[\p{L}\p{N}]$/u.test(text.charAt(index - 1)) && /^[\p{L}\p{N}]$/u.test(text.charAt(index + 1));
  }
  return LOCAL_CHAR.test(text.charAt(index)) || /^[\p{L}\p{N}]$/u.test(String.fromCodePoint(text.codePointAt(index) ?? 0));
}

const SSN_DASHED = /(?<![\d-])(\d{3})-(\d{2})-(\d{4})(?!\d|-\d)/g;
const SSN_PLAIN = /(?<![\d-])(\d{3})([ .]?)(\d{2})\2(\d{4})(?!\d|[-. ]\d)/g;
// Numbers the SSA voided after they were printed on sample cards and in ads.
const VOID_SSNS = new Set(['078051120', '219099999']);

/** Whether area, group and serial are in ranges the SSA assigns (no 000/666/9xx area, 00 group, 0000 serial). */
export function ssnValid(area: string, group: string, serial: string): boolean {
  if (area === '000' || area === '666' || area.startsWith('9')) return false;
  if (group === '00' || serial === '0000') return false;
  return !VOID_SSNS.has(area + group + serial);
}

/**
 * US SSNs. `AAA-GG-SSSS` counts on its own unless an ID word (order, part, ref, #...) precedes it;
 * `AAA GG SSSS` and `AAAGGSSSS` only after an SSN word (ssn, social security...) within 40 characters.
 */
export function detectSsn(text: string, out: RawFinding[]): void {
  SSN_DASHED.lastIndex = 0;
  for (let m = SSN_DASHED.exec(text); m !== null; m = SSN_DASHED.exec(text)) {
    if (!ssnValid(m[1] ?? '', m[2] ?? '', m[3] ?? '')) continue;
    if (precededBy(text, m.index, NUMBER_ID_CONTEXT, 20) && !precededBy(text, m.index, SSN_CONTEXT, 40)) continue;
    push(out, 'ssn', m.index, m.index + m[0].length);
  }
  SSN_PLAIN.lastIndex = 0;
  for (let m = SSN_PLAIN.exec(text); m !== null; m = SSN_PLAIN.exec(text)) {
    if (!ssnValid(m[1] ?? '', m[3] ?? '', m[4] ?? '')) continue;
    if (!precededBy(text, m.index, SSN_CONTEXT, 40)) continue;
    push(out, 'ssn', m.index, m.index + m[0].length);
  }
}

const IPV4_RE = /(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w]|\.\d)/g;
// "version 1.2.3.4", "v. 10.0.0.1", "section 1.2.3.4": dotted numbers that are not addresses.
const VERSION_CONTEXT = /(?:\b(?:version|ver|release|build|rev|revision|firmware|section|chapter|clause|figure|table|step|paragraph|v)\.?\s*|§\s*)$/;

/** IPv4 (octets 0-255, no leading zeros, not after "version"-like words) and IPv6 (full, compressed, with embedded IPv4). */
export function detectIp(text: string, out: RawFinding[]): void {
  if (text.includes('.')) {
    IPV4_RE.lastIndex = 0;
    for (let m = IPV4_RE.exec(text); m !== null; m = IPV4_RE.exec(text)) {
      if (precededBy(text, m.index, VERSION_CONTEXT, 16)) continue;
      push(out, 'ip_address', m.index, m.index + m[0].length, 'v4');
    }
  }
  // IPv6: grow a run of hex digits, colons and dots around each colon (prose has few colons).
  let colon = text.indexOf(':');
  let scanned = 0;
  while (colon >= 0) {
    if (colon >= scanned) scanned = ipv6Around(text, colon, out);
    colon = text.indexOf(':', Math.max(colon + 1, scanned));
  }
}

function isHexOrColon(code: number): boolean {
  return (code >= 48 && code <= 58) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102);
}

function isWordChar(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;
}

/** Checks the run around the colon at `colon`; returns where scanning may continue. */
function ipv6Around(text: string, colon: number, out: RawFinding[]): number {
  let start = colon;
  while (start > 0 && colon - start < 39 && isHexOrColon(text.charCodeAt(start - 1))) start -= 1;
  let end = colon + 1;
  while (end < text.length && end - start < 45 && (isHexOrColon(text.charCodeAt(end)) || text.charCodeAt(end) === 46)) end += 1;
  while (end > colon + 1 && text.charCodeAt(end - 1) === 46) end -= 1;
  const before = start > 0 ? text.charCodeAt(start - 1) : 32;
  const after = end < text.length ? text.charCodeAt(end) : 32;
  if (isWordChar(before) || before === 46 || isWordChar(after) || after === 58) return end;
  if (ipv6Valid(text.slice(start, end))) push(out, 'ip_address', start, end, 'v6');
  return end;
}

/** Strict IPv6 syntax check; also requires a digit and, for compressed forms, two groups (or `::1`), to skip words like `a::b`. */
export function ipv6Valid(value: string): boolean {
  let head = value;
  let groupsNeeded = 8;
  const lastColon = value.lastIndexOf(':');
  if (value.indexOf('.', lastColon) >= 0) {
    const v4 = value.slice(lastColon + 1).split('.');
    if (v4.length !== 4 || v4.some((octet) => !/^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/.test(octet))) return false;
    head = value.slice(0, lastColon + 1);
    if (!head.endsWith('::')) head = head.slice(0, -1);
    groupsNeeded = 6;
  }
  const halves = head.split('::');
  if (halves.length > 2) return false;
  const groups = halves.map((half) => (half === '' ? [] : half.split(':')));
  const all = groups.flat();
  if (all.some((group) => !/^[0-9A-Fa-f]{1,4}$/.test(group))) return false;
  if (!/\d/.test(value)) return false;
  if (halves.length === 1) return all.length === groupsNeeded;
  if (all.length > groupsNeeded - 1) return false;
  return all.length >= 2 || groupsNeeded === 6 || value === '::1';
}
