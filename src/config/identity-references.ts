import type { ConfigIssue } from './issues.js';

type Path = Array<string | number>;

/**
 * Cross-references of the identity config: plans, teams and rules must name models, plans and
 * teams that exist. Plans and teams may also live in the record store, so names that config cannot
 * resolve are only checked where config is the sole source (models, and plans named by config).
 */
export function checkIdentityReferences(root: Record<string, unknown>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const models = new Set(Object.keys(asRecord(root.models) ?? {}));
  const plans = asRecord(root.plans) ?? {};
  const teams = asRecord(root.teams) ?? {};
  const planNames = new Set(Object.keys(plans));

  const checkModels = (list: unknown, path: Path) => {
    if (!Array.isArray(list)) return;
    list.forEach((name: unknown, index) => {
      if (typeof name === 'string' && !models.has(name)) issues.push({ path: [...path, index], message: `unknown model ${JSON.stringify(name)}` });
    });
  };
  const checkPlan = (name: unknown, path: Path) => {
    if (typeof name === 'string' && !planNames.has(name)) {
      issues.push({ path, message: `unknown plan ${JSON.stringify(name)} (defined plans: ${[...planNames].join(', ') || 'none'})` });
    }
  };

  for (const [name, plan] of Object.entries(plans)) {
    const fields = asRecord(plan);
    checkModels(fields?.models, ['plans', name, 'models']);
    const degradeTo = fields?.degrade_to;
    if (typeof degradeTo === 'string' && !models.has(degradeTo)) issues.push({ path: ['plans', name, 'degrade_to'], message: `unknown model ${JSON.stringify(degradeTo)}` });
  }
  for (const [name, team] of Object.entries(teams)) {
    const fields = asRecord(team);
    checkModels(fields?.models, ['teams', name, 'models']);
    checkPlan(fields?.plan, ['teams', name, 'plan']);
  }
  const auth = asRecord(root.auth);
  checkPlan(auth?.default_plan, ['auth', 'default_plan']);
  const keys = auth?.api_keys;
  if (Array.isArray(keys)) {
    keys.forEach((key: unknown, index) => {
      const fields = asRecord(key);
      checkPlan(fields?.plan, ['auth', 'api_keys', index, 'plan']);
      // Static keys resolve at start, before the store is read: their team must be in config.
      const team = fields?.team;
      if (typeof team === 'string' && !(team in teams)) {
        issues.push({ path: ['auth', 'api_keys', index, 'team'], message: `unknown team ${JSON.stringify(team)} (static keys name teams defined under \`teams\`)` });
      }
    });
  }
  const rules = asRecord(root.access)?.rules;
  if (Array.isArray(rules)) {
    const seen = new Set<unknown>();
    rules.forEach((rule: unknown, index) => {
      const fields = asRecord(rule);
      checkModels(fields?.models, ['access', 'rules', index, 'models']);
      if (fields?.name !== undefined && seen.has(fields.name)) issues.push({ path: ['access', 'rules', index, 'name'], message: `duplicate rule name ${JSON.stringify(fields.name)}` });
      seen.add(fields?.name);
      const allow = asRecord(fields?.allow);
      if (Array.isArray(allow?.plans)) allow.plans.forEach((plan: unknown, i) => checkPlan(plan, ['access', 'rules', index, 'allow', 'plans', i]));
    });
  }
  return issues;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
