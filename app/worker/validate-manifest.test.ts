import { describe, expect, it } from 'vitest';
import { DEFAULT_CHAT_TEMPLATE, PACKAGE_FORMAT, PACKAGE_FORMAT_VERSION, type PackageManifest } from '../checkpoint/manifest.ts';
import { resolvePackageUrl, urlCacheKey } from './download.ts';
import { BadPackageError } from './errors.ts';
import { ProgressMeter } from './progress.ts';
import { parseManifest } from './validate-manifest.ts';

const HASH = 'ab'.repeat(32);

function manifest(): PackageManifest {
  return {
    format: PACKAGE_FORMAT,
    formatVersion: PACKAGE_FORMAT_VERSION,
    name: 'unit',
    model: {} as PackageManifest['model'],
    chatTemplate: DEFAULT_CHAT_TEMPLATE,
    tokenizer: { file: 'tokenizer.json', bytes: 10, sha256: HASH },
    shards: [{ file: 'model-0.safetensors', bytes: 100, sha256: HASH }],
    tensors: { w: { dtype: 'f16', shape: [10], shard: 0, offset: 80, bytes: 20 } },
  };
}

describe('parseManifest', () => {
  it('accepts a valid manifest', () => {
    expect(parseManifest(JSON.stringify(manifest()), 'm.json').name).toBe('unit');
  });

  it.each([
    ['bad JSON', () => '{', /not valid JSON/],
    ['wrong format', () => JSON.stringify({ ...manifest(), format: 'other' }), /"format" is "other"/],
    ['newer version', () => JSON.stringify({ ...manifest(), formatVersion: 2 }), /reads only 1/],
    ['bad hash', () => JSON.stringify({ ...manifest(), shards: [{ file: 'a', bytes: 100, sha256: 'xyz' }] }), /shards\[0\]\.sha256/],
    ['path escape', () => JSON.stringify({ ...manifest(), shards: [{ file: '../a', bytes: 100, sha256: HASH }] }), /not a file name inside/],
    ['tensor past shard end', () => JSON.stringify({ ...manifest(), tensors: { w: { dtype: 'f16', shape: [1], shard: 0, offset: 90, bytes: 20 } } }), /ends at byte 110/],
    ['unknown shard', () => JSON.stringify({ ...manifest(), tensors: { w: { dtype: 'f16', shape: [1], shard: 3, offset: 0, bytes: 2 } } }), /names shard 3/],
  ])('rejects %s', (_case, text, message) => {
    expect(() => parseManifest(text(), 'm.json')).toThrow(BadPackageError);
    expect(() => parseManifest(text(), 'm.json')).toThrow(message);
  });
});

describe('resolvePackageUrl', () => {
  it('adds manifest.json to a folder', () => {
    expect(resolvePackageUrl('https://h/pkg', 'https://h/')).toEqual({ manifestUrl: 'https://h/pkg/manifest.json', folderUrl: 'https://h/pkg/' });
  });

  it('keeps an explicit manifest', () => {
    const { manifestUrl, folderUrl } = resolvePackageUrl('/models/a/manifest.json', 'https://h/app/');
    expect(manifestUrl).toBe('https://h/models/a/manifest.json');
    expect(folderUrl).toBe('https://h/models/a/');
    expect(urlCacheKey(manifestUrl)).toBe('url:https://h/models/a/manifest.json');
  });
});

describe('ProgressMeter', () => {
  it('sums files, excludes stored bytes from speed', () => {
    let now = 0;
    const events: ReturnType<ProgressMeter['snapshot']>[] = [];
    const meter = new ProgressMeter('download', [{ file: 'a', bytes: 1000 }, { file: 'b', bytes: 500 }], (p) => events.push(p), () => now);
    meter.set('a', 400);
    now = 1000;
    meter.add('b', 200);
    now = 2000;
    meter.add('b', 200);
    const snapshot = meter.snapshot();
    expect(snapshot.bytesDone).toBe(800);
    expect(snapshot.bytesTotal).toBe(1500);
    expect(snapshot.bytesPerSecond).toBe(400);
    expect(snapshot.shard).toEqual({ file: 'b', bytesDone: 400, bytesTotal: 500 });
    expect(events.length).toBe(3);
  });
});
