/** JSON requests to the servers a benchmark started on 127.0.0.1, over undici's keep-alive global dispatcher. */
import { request } from 'undici';

export interface JsonReply {
  status: number;
  body: any;
}

/** Sends `method url` with an optional JSON body and returns the status and the parsed reply; a non-JSON reply throws. */
export async function callJson(method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown): Promise<JsonReply> {
  const response = await request(url, {
    method,
    headers: body === undefined ? { 'accept-language': 'en' } : { 'content-type': 'application/json', 'accept-language': 'en' },
    body: body === undefined ? undefined : JSON.stringify(body),
    headersTimeout: 120_000,
    bodyTimeout: 120_000,
  });
  const text = await response.body.text();
  return { status: response.statusCode, body: text === '' ? undefined : JSON.parse(text) };
}
