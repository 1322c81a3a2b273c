// Worker entry: loads the TypeScript worker through tsx, whether or not the parent process
// runs under tsx (vitest workers and plain node do not).
import { tsImport } from 'tsx/esm/api';

await tsImport('./decode-thread.ts', import.meta.url);
