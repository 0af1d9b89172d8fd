/** The durable record store: identity records in SQLite or PostgreSQL behind one interface. */
export { openRecordStore } from './open-store.js';
export {
  RecordConflictError,
  RecordInUseError,
  RecordReferenceError,
  type ApiKeyInput,
  type CustomerInput,
  type OrganizationInput,
  type Patch,
  type PlanInput,
  type RecordStore,
  type Repository,
  type StoreOptions,
  type TeamInput,
  type UserInput,
} from './record-store.js';
export type {
  ApiKeyRecord,
  CustomerRecord,
  IdentitySnapshot,
  KeyStatus,
  OrganizationRecord,
  PlanRecord,
  TeamRecord,
  UserRecord,
} from './records.js';
