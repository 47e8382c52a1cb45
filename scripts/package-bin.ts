import path from 'node:path';

/** Path of a file inside an installed package, even when the package's `exports` map hides it (eslint's bin). */
export function packageFile(pkg: string, file: string): string {
  return path.join(path.dirname(require.resolve(`${pkg}/package.json`)), file);
}
