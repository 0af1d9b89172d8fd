export { MockAdapter } from './mock-adapter.js';
export { MOCK_BEHAVIOR_HEADER } from './behavior.js';
