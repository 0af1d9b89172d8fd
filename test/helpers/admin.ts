import { request } from 'undici';

export interface AdminResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
  text: string;
}

/** Calls the admin API with a bearer credential; the body is parsed when there is one. */
export async function adminCall<T = Record<string, unknown>>(baseUrl: string, credential: string | undefined, method: string, path: string, body?: unknown): Promise<AdminResponse<T>> {
  const headers: Record<string, string> = {};
  if (credential !== undefined) headers.authorization = `Bearer ${credential}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await request(`${baseUrl}/admin/v1${path}`, {
    method: method as 'GET',
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.body.text();
  return { status: response.statusCode, body: (text === '' ? {} : JSON.parse(text)) as T, text };
}

/** A chat call with a key; resolves to the HTTP status and body text. */
export async function chatStatus(baseUrl: string, key: string, model: string, extra: Record<string, unknown> = {}): Promise<{ status: number; text: string }> {
  const response = await request(`${baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...extra }),
  });
  return { status: response.statusCode, text: await response.body.text() };
}
