import type { ConfigIssue } from './issues.js';

type Path = ConfigIssue['path'];

/**
 * Routing cross-references on the raw document: fallbacks and rules name defined models, rules
 * name targets those models have, and target names are unique within a model.
 */
export function checkRoutingReferences(root: Record<string, unknown>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const models = asRecord(root.models) ?? {};
  const modelNames = Object.keys(models);
  const known = modelNames.length > 0 ? modelNames.join(', ') : 'none defined';
  const checkModel = (name: unknown, path: Path) => {
    if (typeof name === 'string' && !(name in models)) issues.push({ path, message: `unknown model ${JSON.stringify(name)} (defined models: ${known})` });
  };
  const targetNames = new Map<string, string[]>();

  for (const [modelName, model] of Object.entries(models)) {
    const fields = asRecord(model);
    const names: string[] = [];
    if (Array.isArray(fields?.targets)) {
      fields.targets.forEach((target: unknown, index) => {
        const entry = asRecord(target);
        const name = typeof entry?.name === 'string' ? entry.name : `${String(entry?.provider)}/${String(entry?.model)}`;
        if (names.includes(name)) {
          issues.push({ path: ['models', modelName, 'targets', index], message: `duplicate target name ${JSON.stringify(name)} (give targets distinct \`name\`s)` });
        }
        names.push(name);
      });
    }
    targetNames.set(modelName, names);
    forEachFallback(fields?.fallbacks, ['models', modelName, 'fallbacks'], (fallback, path) => {
      checkModel(fallback, path);
      if (fallback === modelName) issues.push({ path, message: 'a model cannot fall back to itself' });
    });
  }

  const routing = asRecord(root.routing);
  forEachFallback(routing?.fallbacks, ['routing', 'fallbacks'], checkModel);
  const rules = Array.isArray(routing?.rules) ? routing.rules : [];
  rules.forEach((raw: unknown, index) => {
    const rule = asRecord(raw);
    if (!rule) return;
    const path: Path = ['routing', 'rules', index];
    const applies = Array.isArray(rule.models) ? rule.models : [];
    applies.forEach((name: unknown, at) => checkModel(name, [...path, 'models', at]));
    checkModel(rule.use_model, [...path, 'use_model']);
    if (Array.isArray(rule.add_models)) rule.add_models.forEach((name: unknown, at) => checkModel(name, [...path, 'add_models', at]));
    if (Array.isArray(rule.only_targets)) {
      // The targets must exist in the model the rule serves from (use_model, else each model it applies to).
      const servedFrom = typeof rule.use_model === 'string' ? [rule.use_model] : applies.filter((name): name is string => typeof name === 'string');
      if (servedFrom.length === 0) issues.push({ path: [...path, 'only_targets'], message: 'name the models the rule applies to (`models`) or `use_model`, so the targets can be found' });
      for (const model of servedFrom) {
        const names = targetNames.get(model);
        if (!names) continue;
        for (const target of rule.only_targets) {
          if (typeof target === 'string' && !names.includes(target)) {
            issues.push({ path: [...path, 'only_targets'], message: `model "${model}" has no target named ${JSON.stringify(target)} (it has: ${names.join(', ')})` });
          }
        }
      }
    }
  });
  return issues;
}

function forEachFallback(list: unknown, path: Path, visit: (model: unknown, path: Path) => void): void {
  if (!Array.isArray(list)) return;
  list.forEach((entry: unknown, index) => visit(asRecord(entry)?.model, [...path, index, 'model']));
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
