export { AccessDeniedError, AccessPolicy, type AccessDecision, type AccessRequest, type CustomerGate } from './access-policy.js';
