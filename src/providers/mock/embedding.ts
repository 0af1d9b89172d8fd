import { createHash } from 'node:crypto';

/**
 * A deterministic unit vector for a text: the same text always maps to the same vector, different
 * texts to different ones. Enough for tests and benchmarks; it carries no meaning.
 */
export function mockEmbedding(text: string, dimensions: number, format: 'float' | 'base64'): number[] | string {
  const vector = new Float32Array(dimensions);
  let seed = createHash('sha256').update(text).digest().readUInt32LE(0) || 1;
  let norm = 0;
  for (let i = 0; i < dimensions; i += 1) {
    // xorshift32: cheap, deterministic, good enough spread.
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    seed >>>= 0;
    const value = seed / 0xffffffff - 0.5;
    vector[i] = value;
    norm += value * value;
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 1;
  for (let i = 0; i < dimensions; i += 1) vector[i] = (vector[i] as number) * scale;
  if (format === 'base64') return Buffer.from(vector.buffer).toString('base64');
  return Array.from(vector);
}
