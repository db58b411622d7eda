/**
 * Forged headers for the resource-limit tests (issue 15.3): a well-formed v2 header for suite
 * 0x0478 whose EDKs are as large as the format allows, so that a header of many MiB passes the
 * EDK-count limit. Its EDKs belong to nobody, so a decrypt that gets past the header fails with
 * ENVELOPE_NO_DECRYPTABLE_KEY.
 */
export interface ForgedHeaderOptions {
  /** Number of EDKs (default 85: 85 × 196,611 bytes ≈ 16 MiB, under the default limit of 100). */
  edks?: number;
  /** Length of each of an EDK's three fields (default 65,535, the most a u16 length allows). */
  fieldLength?: number;
}

export function forgedHeader(options: ForgedHeaderOptions = {}): Buffer {
  const edks = options.edks ?? 85;
  const n = options.fieldLength ?? 0xffff;
  const u16 = (v: number) => Buffer.from([v >> 8, v & 0xff]);
  const field = Buffer.alloc(n, 0x61); // 'a': valid UTF-8 for the provider id as well
  const edk = Buffer.concat([u16(n), field, u16(n), field, u16(n), field]);
  return Buffer.concat([
    Buffer.from([0x02, 0x04, 0x78]), // version 2, suite 0x0478
    Buffer.alloc(32, 7), // message id
    u16(0), // no encryption context
    u16(edks),
    ...new Array<Buffer>(edks).fill(edk),
    Buffer.from([0x02]), // framed
    Buffer.from([0, 0, 0x10, 0]), // frame length 4096
    Buffer.alloc(32, 1), // commit key (suite data)
    Buffer.alloc(16, 2), // header tag
  ]);
}

/** `b` in chunks of `size` bytes (views, no copies). */
export function chunks(b: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < b.byteLength; i += size) out.push(b.subarray(i, i + size));
  return out;
}
