import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../core/errors.js';

/**
 * Reads a request body up to `limit` bytes. A declared Content-Length over the limit fails before
 * reading; an undeclared body fails as soon as it grows past it, without buffering the rest.
 */
export function readBodyWithLimit(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        request.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new GatewayError('BB_INVALID_REQUEST', 'The request body could not be read.', { cause: error }));
    };
    const onAborted = () => onError(new Error('client aborted'));
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('aborted', onAborted);
  });
}

function tooLarge(limit: number): GatewayError {
  return new GatewayError('BB_BODY_TOO_LARGE', `The request body is larger than the limit of ${limit} bytes.`);
}
