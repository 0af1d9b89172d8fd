import type { AzureOpenAIProviderConfig } from '../../config/schema.js';
import { OpenAIAdapter } from '../openai/openai-adapter.js';
import type { ProviderAdapter } from '../provider-adapter.js';
import { toProviderTimeouts } from '../timeouts.js';
import { DeploymentPaths } from './deployment-paths.js';
import { classifyAzureError } from './parse-error.js';
import { azureWireProfile } from './wire-profile.js';

/**
 * Azure OpenAI: OpenAI's wire format at deployment URLs, authenticated with the `api-key` header.
 * It is the OpenAI adapter with Azure's paths, error codes and stream annotations; a target's
 * `model` is the deployment name, and the model name Azure answers with is passed on unchanged.
 */
export function createAzureOpenAIProvider(name: string, config: AzureOpenAIProviderConfig): ProviderAdapter {
  const endpoint = new URL(config.endpoint);
  const paths = new DeploymentPaths(endpoint.pathname, config.api_version);
  return new OpenAIAdapter({
    name,
    type: 'azure-openai',
    baseUrl: endpoint.origin,
    authHeaders: { 'api-key': config.api_key },
    extraHeaders: { ...config.headers },
    timeouts: toProviderTimeouts(config.timeouts),
    maxConnections: config.max_connections,
    profile: azureWireProfile(config.api_version),
    pathFor: (operation, deployment) => paths.pathFor(operation, deployment),
    classifyError: classifyAzureError,
  });
}
