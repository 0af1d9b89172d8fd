import type { ServerResponse } from 'node:http';

/**
 * Writes SSE chunks with backpressure: when the socket buffer is full we stop pulling from the
 * source (and so from the upstream) until it drains. Stops early if the client goes away; leaving
 * the loop returns the source iterator, which aborts the upstream request.
 */
export async function writeEventStream(response: ServerResponse, chunks: AsyncIterable<string>): Promise<void> {
  response.flushHeaders();
  for await (const chunk of chunks) {
    if (response.destroyed) break;
    if (!response.write(chunk)) {
      const open = await waitForDrain(response);
      if (!open) break;
    }
  }
  if (!response.destroyed) response.end();
}

/** Resolves true on 'drain', false if the connection closes first. */
function waitForDrain(response: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const onDrain = () => {
      response.off('close', onClose);
      resolve(true);
    };
    const onClose = () => {
      response.off('drain', onDrain);
      resolve(false);
    };
    response.once('drain', onDrain);
    response.once('close', onClose);
  });
}
