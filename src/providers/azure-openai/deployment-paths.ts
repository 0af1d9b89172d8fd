import type { OpenAIOperation } from '../openai/openai-adapter.js';

interface OperationPaths {
  chat: string;
  embeddings: string;
}

/**
 * Azure puts the deployment in the URL and the API version in the query. The paths of a
 * deployment are built once and kept, so a request costs one map lookup and no URL work. The map
 * is bounded by the config: targets name the deployments, and a reload builds a new adapter.
 */
export class DeploymentPaths {
  private readonly prefix: string;
  private readonly query: string;
  private readonly cache = new Map<string, OperationPaths>();

  /** `basePath` is the endpoint's own path (empty for a plain resource endpoint; set behind a proxy). */
  constructor(basePath: string, apiVersion: string) {
    this.prefix = `${basePath.replace(/\/+$/, '')}/openai/deployments/`;
    this.query = `?api-version=${encodeURIComponent(apiVersion)}`;
  }

  pathFor(operation: OpenAIOperation, deployment: string): string {
    let paths = this.cache.get(deployment);
    if (paths === undefined) {
      const root = this.prefix + encodeURIComponent(deployment);
      paths = { chat: `${root}/chat/completions${this.query}`, embeddings: `${root}/embeddings${this.query}` };
      this.cache.set(deployment, paths);
    }
    return paths[operation];
  }
}
