import { z } from 'zod';
import type { AdminRoute } from './route.js';

const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        message: { type: 'string' },
        type: { type: 'string' },
        param: { type: ['string', 'null'] },
        code: { type: 'string' },
        bb_code: { type: 'string', description: 'The Breakerbox error code (docs/errors.md).' },
        retryable: { type: 'boolean' },
      },
      required: ['message', 'type', 'code', 'bb_code'],
    },
  },
  required: ['error'],
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): unknown {
  return z.toJSONSchema(schema, { io, unrepresentable: 'any' });
}

/** An OpenAPI 3.1 document built from the same route table that serves the admin API. */
export function buildOpenApiDocument(routes: readonly AdminRoute[], prefix: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const parameters = [...route.path.matchAll(/\{(\w+)\}/g)].map((found) => ({ name: found[1], in: 'path', required: true, schema: { type: 'string' } }));
    const responses: Record<string, unknown> = {
      [String(route.status)]: route.response
        ? { description: 'Success', content: { 'application/json': { schema: jsonSchema(route.response, 'output') } } }
        : { description: 'Success, no content' },
    };
    for (const [status, description] of [['400', 'Invalid body'], ['401', 'No or bad credential'], ['403', 'The role does not allow this'], ['404', 'Not found, or another team\'s'], ['409', 'Conflict']] as const) {
      responses[status] = { description, content: { 'application/json': { schema: errorSchema } } };
    }
    const operation: Record<string, unknown> = {
      summary: route.summary,
      tags: [route.tag],
      operationId: `${route.method.toLowerCase()}${route.path.replace(/\{(\w+)\}/g, 'By_$1').replace(/\/(\w)/g, (_m, c: string) => c.toUpperCase()).replace(/\W/g, '')}`,
      parameters,
      responses,
    };
    if (route.body) operation.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } };
    (paths[`${prefix}${route.path}`] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Breakerbox admin API',
      version: '1',
      description: 'Organizations, teams, users, keys, plans and end customers. Authenticate with the admin key, an admin-role JWT, or the key of a user with an admin role (Authorization: Bearer ...).',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths,
  };
}
