/** The photo formats the app takes, in one list for the file picker, the drop checks and the decoder's messages. */

/** Photo formats browsers decode with `createImageBitmap`: MIME type and the name people know. */
export const BROWSER_PHOTO_FORMATS = [
  { type: 'image/png', name: 'PNG' },
  { type: 'image/jpeg', name: 'JPEG' },
  { type: 'image/webp', name: 'WebP' },
  { type: 'image/gif', name: 'GIF' },
  { type: 'image/avif', name: 'AVIF' },
  { type: 'image/bmp', name: 'BMP' },
] as const;

/** MIME types of {@link BROWSER_PHOTO_FORMATS}. */
export const BROWSER_PHOTO_TYPES: readonly string[] = BROWSER_PHOTO_FORMATS.map((format) => format.type);

/** Names of {@link BROWSER_PHOTO_FORMATS} as a sentence lists them: "PNG, JPEG, WebP, GIF, AVIF or BMP". */
export const BROWSER_PHOTO_NAMES = listWithOr(BROWSER_PHOTO_FORMATS.map((format) => format.name));

/** Joins names with commas and a final "or". */
function listWithOr(names: string[]): string {
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : names.join('');
}
