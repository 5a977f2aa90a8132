// Types for the untyped CommonJS test client `sasl-scram-sha-1` (v1.4, index.js), as far as the tests use it.
declare module 'sasl-scram-sha-1' {
  interface ScramSha1Credentials {
    username?: string;
    password?: string;
    authzid?: string;
  }
  class ScramSha1Mechanism {
    constructor(options?: { genNonce?: () => string });
    name: string;
    clientFirst: boolean;
    /** The first call returns client-first synchronously; the second resolves to client-final. */
    response(cred: ScramSha1Credentials): string | Promise<string>;
    challenge(chal: string): this;
  }
  export = ScramSha1Mechanism;
}
