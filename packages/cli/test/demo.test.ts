import { describe, expect, it } from 'vitest';
import { run } from './helpers.js';

describe('envelope demo', () => {
  it('runs the failover story end to end and every decrypt succeeds through the secondary', async () => {
    const r = await run(['demo', '--json', '--size', '65536']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout.toString());
    expect(report.primary).toMatch(/^arn:aws:kms:us-east-1:111122223333:key\/mrk-/);
    expect(report.replica).toBe(report.primary.replace('us-east-1', 'eu-west-1'));
    expect(report.blackholedDecrypts).toHaveLength(6);
    for (const d of report.blackholedDecrypts) expect(d.region).toBe('eu-west-1');
    // The first decrypts hedge past the silent primary; once its breaker opens it is not tried.
    expect(report.blackholedDecrypts[0].failover).toBe(true);
    expect(report.blackholedDecrypts.at(-1).failover).toBe(false);
    expect(report.health.find((h: { region: string }) => h.region === 'us-east-1').breaker).toBe('open');
    // No wall-clock bound here (timings belong in bench/): that every decrypt succeeded through
    // the secondary, and that the breaker stopped the primary being tried, is the behaviour.
  });
});
