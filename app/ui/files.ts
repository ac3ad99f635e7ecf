/** Sorts dropped or picked files into a photo or model files, and checks photos. */
import { BROWSER_PHOTO_NAMES, BROWSER_PHOTO_TYPES } from '../image/photo-types.ts';

/** Names that mark a model package or checkpoint rather than a photo. */
const MODEL_FILE = /(^manifest\.json$|^config\.json$|^tokenizer\.json$|\.safetensors$|\.bin$|\.safetensors\.index\.json$)/i;

/** Photo types browsers decode; anything else gets a message before it reaches the worker. */
const PHOTO_TYPES = BROWSER_PHOTO_TYPES;

/** The photo types, as the page names them to people. */
export const PHOTO_TYPE_NAMES = BROWSER_PHOTO_NAMES;

/** The file picker's filter, the same types as {@link PHOTO_TYPES}. */
export const PHOTO_ACCEPT = PHOTO_TYPES.join(',');

export function isModelFile(file: File): boolean {
  return MODEL_FILE.test(file.name);
}

export interface DroppedFiles {
  files: File[];
  /** True when a folder was dropped, which always means a model package. */
  folder: boolean;
}

/**
 * Reads the files of a drop, walking into dropped folders. The entries must be taken during
 * the drop event itself, because the browser empties the DataTransfer after it.
 */
export function readDrop(dataTransfer: DataTransfer): Promise<DroppedFiles> {
  const entries: FileSystemEntry[] = [];
  for (const item of Array.from(dataTransfer.items)) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) entries.push(entry);
  }
  const plain = Array.from(dataTransfer.files);
  if (!entries.some((entry) => entry.isDirectory)) return Promise.resolve({ files: plain, folder: false });
  return Promise.all(entries.map(readEntry)).then((lists) => ({ files: lists.flat(), folder: true }));
}

async function readEntry(entry: FileSystemEntry): Promise<File[]> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    return [file];
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const children: FileSystemEntry[] = [];
  // readEntries returns the folder in batches and an empty batch at the end.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    children.push(...batch);
  }
  const lists = await Promise.all(children.map(readEntry));
  return lists.flat();
}

/** A file that cannot be used as the photo; the message names the file and what to do. */
export class PhotoError extends Error {
  override name = 'PhotoError';
}

export interface CheckedPhoto {
  file: File;
  width: number;
  height: number;
}

/** Decodes `file` once to check that it is a readable image, and returns its size. */
export async function checkPhoto(file: File): Promise<CheckedPhoto> {
  if (file.size === 0) throw new PhotoError(`"${file.name}" is empty. Choose a ${PHOTO_TYPE_NAMES} photo.`);
  const typed = file.type !== '';
  if (typed && !PHOTO_TYPES.includes(file.type)) {
    throw new PhotoError(`"${file.name}" is not a photo (its type is ${file.type}). Choose a ${PHOTO_TYPE_NAMES} image.`);
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new PhotoError(
      `"${file.name}" could not be decoded as an image: the file is damaged, cut short or not an image. Choose another photo (${PHOTO_TYPE_NAMES}).`,
    );
  }
  const { width, height } = bitmap;
  bitmap.close();
  return { file, width, height };
}
