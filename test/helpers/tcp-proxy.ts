import net from 'node:net';

/**
 * A TCP hop between the gateway (or a store client) and a real service (Redis, PostgreSQL) that a
 * test can cut (refuse and drop), black-hole (connected, nothing answers) or restore, without
 * touching the machine's service itself.
 */
export class TcpProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  blackhole = false;
  port = 0;
  /** Sees every chunk a client sends toward the service (to count commands on the wire). */
  onClientData: ((chunk: Buffer) => void) | undefined;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** A proxy to the host and port of a service URL (redis://..., postgres://...). */
  static to(url: URL, defaultPort: number): TcpProxy {
    return new TcpProxy(url.hostname, Number(url.port || defaultPort));
  }

  /** Listens on 127.0.0.1 (the same port again after a stop, so clients can reconnect). */
  async start(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.targetHost);
      for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
        this.sockets.add(from);
        from.on('data', (chunk: Buffer) => {
          if (from === client) this.onClientData?.(chunk);
          if (!this.blackhole) to.write(chunk);
        });
        from.on('error', () => undefined);
        from.on('close', () => {
          this.sockets.delete(from);
          to.destroy();
        });
      }
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** Refuses new connections and drops the open ones. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
