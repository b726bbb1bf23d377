/** A request the user made that cannot be done as asked (an unknown contact, a missing folder). */
export class AccountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccountError';
  }
}

/** A join into a folder that already has files, without asking to merge them: the caller may ask and retry. */
export class FolderNotEmptyError extends AccountError {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'FolderNotEmptyError';
  }
}
