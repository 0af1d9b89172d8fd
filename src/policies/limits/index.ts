export { LimitsPolicy, type LimitLookups, type LimitRequest, type LimitRoute, type LimitTicket, type ServedModel } from './limits-policy.js';
export { OutputMeter } from './output-meter.js';
