/**
 * HTTP plumbing for the AWS JSON 1.1 protocol: bounded body reading and JSON answers (errors as
 * `{"__type": …, "message": …}` plus the `x-amzn-ErrorType` header the SDKs also read).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KmsError } from './errors.js';

const JSON_11 = 'application/x-amz-json-1.1';

/** Thrown by {@link readBody} when the body is larger than allowed. */
export class BodyTooLargeError extends KmsError {
  constructor(max: number) {
    super('ValidationException', `Request body exceeds ${max} bytes.`, 413);
  }
}

/**
 * Reads a request body of at most `max` bytes. A declared or actual length past `max` rejects at
 * once and stops reading: nothing unbounded is ever buffered.
 */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && !(Number(declared) <= max)) return Promise.reject(new BodyTooLargeError(max));
  return new Promise((resolve, reject) => {
    let first: Buffer | undefined;
    let parts: Buffer[] | undefined;
    let n = 0;
    const onData = (c: Buffer): void => {
      n += c.byteLength;
      if (n > max) {
        req.off('data', onData);
        req.off('end', onEnd);
        req.pause();
        reject(new BodyTooLargeError(max));
        return;
      }
      // Most bodies arrive in one chunk: keep it without a copy.
      if (first === undefined) first = c;
      else (parts ??= [first]).push(c);
    };
    const onEnd = (): void => resolve(parts ? Buffer.concat(parts, n) : (first ?? Buffer.alloc(0)));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
  });
}

/** Answers `status` with a JSON body. */
export function sendJson(res: ServerResponse, status: number, body: unknown, extra?: Record<string, string>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': JSON_11,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    ...extra,
  });
  res.end(text);
}

/** Answers a KMS error the way the service does. */
export function sendError(res: ServerResponse, e: KmsError): void {
  if (res.headersSent) return;
  sendJson(res, e.status, { __type: e.type, message: e.message }, { 'x-amzn-errortype': e.type });
}
