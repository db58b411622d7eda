/** KMS-style errors: the service's exception names and HTTP statuses. */
export class KmsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }
}

export const notFound = (what: string) => new KmsError('NotFoundException', `${what} is not found.`);
export const validation = (msg: string) => new KmsError('ValidationException', msg);
