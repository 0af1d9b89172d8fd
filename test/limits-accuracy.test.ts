import { parseConfigText } from '../src/config/load.js';
import { startGateway } from '../src/gateway.js';
import { accuracyConfig, describeLimitAccuracy, LIMIT_TUNING } from './helpers/limits-accuracy.js';

// The accuracy suite on the in-memory backend, one process (the Redis run is in test/distributed/).
describeLimitAccuracy('limit accuracy: memory backend, one instance', async () => {
  const gateway = await startGateway(parseConfigText(accuracyConfig(`limits: { backend: memory, ${LIMIT_TUNING} }`), 'accuracy.yaml'));
  return { urls: [gateway.url], read: (keys) => gateway.state.read(keys), stop: () => gateway.close() };
});
