/**
 * An image that cannot be turned into model input: not a supported format, damaged, empty or
 * too large. `message` names the file, the problem and what to do.
 */
export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
  constructor(
    /** File name or path as the user gave it, or "image" when there is none. */
    readonly file: string,
    /** Problem as a clause, e.g. "the file is empty". */
    readonly problem: string,
    advice = 'Choose a PNG or JPEG photo.',
    options?: { cause?: unknown },
  ) {
    super(`Cannot read image "${file}": ${problem}. ${advice}`, options);
  }
}
