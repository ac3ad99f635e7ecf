/** Opens a checkpoint from a path under Node: a file or a folder holding one, plus its `config.json`. */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FileByteSource } from './bytes.node.ts';
import { openCheckpointSource, type Checkpoint } from './checkpoint.ts';
import { CheckpointFormatError } from './errors.ts';

/** File names looked for in a checkpoint folder, in order of preference. */
const CHECKPOINT_FILES = ['model.safetensors.index.json', 'model.safetensors', 'pytorch_model.bin.index.json', 'pytorch_model.bin'];

export interface OpenedCheckpoint {
  checkpoint: Checkpoint;
  /** Path of the checkpoint file that was opened. */
  path: string;
  /** Parsed `config.json` beside the checkpoint, or null when there is none. */
  config: unknown;
  configPath: string;
}

/** Finds the checkpoint file in a folder. */
async function findCheckpointFile(folder: string): Promise<string> {
  const names = await readdir(folder);
  for (const name of CHECKPOINT_FILES) if (names.includes(name)) return join(folder, name);
  const candidates = names.filter((name) => name.endsWith('.safetensors') || name.endsWith('.bin') || name.endsWith('.pt') || name.endsWith('.pth'));
  if (candidates.length === 1) return join(folder, candidates[0]);
  throw new CheckpointFormatError(
    `${folder} contains ${candidates.length === 0 ? 'no checkpoint file' : `several checkpoint files (${candidates.join(', ')})`}; ` +
      `pass the file itself, or a folder with one of ${CHECKPOINT_FILES.join(', ')}.`,
  );
}

export async function openCheckpointPath(path: string): Promise<OpenedCheckpoint> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new CheckpointFormatError(`${path} not found; pass a checkpoint file or the folder that contains it.`);
    throw error;
  });
  const file = info.isDirectory() ? await findCheckpointFile(path) : path;
  const folder = dirname(file);
  const source = await FileByteSource.open(file);
  let checkpoint: Checkpoint;
  try {
    checkpoint = await openCheckpointSource(source, (name) => FileByteSource.open(join(folder, basename(name))));
  } catch (error) {
    await source.close();
    throw error;
  }

  const configPath = join(folder, 'config.json');
  let config: unknown = null;
  try {
    config = JSON.parse(await readFile(configPath, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      await checkpoint.close();
      throw new CheckpointFormatError(`${configPath} is not valid JSON: ${(error as Error).message}`);
    }
  }
  return { checkpoint, path: file, config, configPath };
}
