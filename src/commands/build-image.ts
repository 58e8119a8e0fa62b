/** `funsearch build-image`: builds the sandbox image from the bundled Dockerfile, on demand. */
import { buildImage } from '../sandbox/index.js';

export interface BuildImageCommandOptions {
  tag: string;
  baseImage?: string;
  log: (line: string) => void;
}

export async function buildImageCommand({ tag, baseImage, log }: BuildImageCommandOptions): Promise<void> {
  await buildImage({ tag, baseImage, onProgress: log });
}
