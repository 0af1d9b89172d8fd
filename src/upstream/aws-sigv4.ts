import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

/**
 * AWS Signature Version 4 for upstream calls (Bedrock Runtime today), kept apart from the adapters so the
 * same piece can sign other Bedrock-hosted wire formats (e.g. Anthropic messages on Bedrock).
 * Signing uses node:crypto through @smithy/hash-node; the signer caches the derived key per day.
 */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignableRequest {
  /** The request path exactly as sent, already URL-encoded. */
  path: string;
  /** Lower-case header names; every one is signed. */
  headers: Record<string, string>;
  /** The exact bytes that will be sent. */
  body: string;
}

export class AwsSigner {
  private readonly signer: SignatureV4;
  private readonly protocol: string;
  private readonly hostname: string;
  private readonly port: number | undefined;
  /** The Host header as sent (the port only when it is not the scheme's default). */
  private readonly host: string;

  /** `endpoint` is the origin every signed request goes to; it is parsed once here. */
  constructor(credentials: AwsCredentials, region: string, endpoint: URL, service = 'bedrock') {
    this.protocol = endpoint.protocol;
    this.hostname = endpoint.hostname;
    this.port = endpoint.port ? Number(endpoint.port) : undefined;
    this.host = endpoint.host;
    this.signer = new SignatureV4({
      service,
      region,
      credentials: {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
      },
      sha256: Hash.bind(null, 'sha256'),
      // AWS services other than S3 sign the path encoded once more than it is sent.
      uriEscapePath: true,
    });
  }

  /**
   * Returns the headers to send: the given ones plus host, x-amz-date, x-amz-content-sha256,
   * x-amz-security-token (temporary credentials) and authorization.
   */
  async sign(request: SignableRequest, now: Date = new Date()): Promise<Record<string, string>> {
    const headers: Record<string, string> = { ...request.headers, host: this.host };
    const signed = await this.signer.sign(
      {
        method: 'POST',
        protocol: this.protocol,
        hostname: this.hostname,
        ...(this.port !== undefined ? { port: this.port } : {}),
        path: request.path,
        query: {},
        headers,
        body: request.body,
      },
      { signingDate: now },
    );
    return signed.headers;
  }
}
