import type { Kysely } from 'kysely';
import type { IdentitySnapshot } from '../records.js';
import type { RecordStore } from '../record-store.js';
import type { Database } from './tables.js';
import { ApiKeyRepository } from './api-keys-repository.js';
import { AuditLogRepository } from './audit-repository.js';
import { CustomerRepository } from './customers-repository.js';
import { KyselyLedgerRepository } from './ledger-repository.js';
import { OrganizationRepository } from './organizations-repository.js';
import { PlanRepository } from './plans-repository.js';
import { TeamRepository } from './teams-repository.js';
import { KyselyUsageRepository } from './usage-repository.js';
import { UserRepository } from './users-repository.js';
import { readConsistent, readRevision } from './transactions.js';

/**
 * The one RecordStore implementation: the SQL is the same for SQLite and PostgreSQL, only the
 * Kysely dialect differs. Expects a migrated database.
 */
export class KyselyRecordStore implements RecordStore {
  readonly organizations: OrganizationRepository;
  readonly teams: TeamRepository;
  readonly users: UserRepository;
  readonly plans: PlanRepository;
  readonly customers: CustomerRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly ledger: KyselyLedgerRepository;
  readonly audit: AuditLogRepository;
  readonly usage: KyselyUsageRepository;

  constructor(
    private readonly db: Kysely<Database>,
    readonly driver: 'sqlite' | 'postgres',
    /** A driver-specific ledger writer (SQLite's prepared inserts); the query builder's otherwise. */
    ledger?: KyselyLedgerRepository,
  ) {
    this.organizations = new OrganizationRepository(db);
    this.teams = new TeamRepository(db);
    this.users = new UserRepository(db);
    this.plans = new PlanRepository(db);
    this.customers = new CustomerRepository(db);
    this.apiKeys = new ApiKeyRepository(db);
    this.ledger = ledger ?? new KyselyLedgerRepository(db);
    this.audit = new AuditLogRepository(db);
    this.usage = new KyselyUsageRepository(db, driver);
  }

  revision(): Promise<number> {
    return readRevision(this.db);
  }

  snapshot(): Promise<IdentitySnapshot> {
    // Sequential on purpose: one transaction is one connection, queries cannot overlap on it.
    return readConsistent(this.db, async (trx) => ({
      revision: await readRevision(trx),
      organizations: await this.organizations.listIn(trx),
      teams: await this.teams.listIn(trx),
      users: await this.users.listIn(trx),
      plans: await this.plans.listIn(trx),
      customers: await this.customers.listIn(trx),
      apiKeys: await this.apiKeys.listIn(trx),
    }));
  }

  async close(): Promise<void> {
    await this.ledger.close();
    await this.db.destroy();
  }
}
