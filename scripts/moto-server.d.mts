/** Types of moto-server.mjs (for the TypeScript tests that start moto_server). */
export declare const MOTO_MISSING: string;
export interface MotoServer {
  readonly url: string;
  readonly port: number;
  reset(): Promise<void>;
  stop(): Promise<void>;
}
export declare function startMotoServer(options?: { timeoutMs?: number }): Promise<MotoServer>;
