// Build the browser bundles into webapp/static/build/ (git-ignored).
//
//   npm ci && npm run build
//
// Everything comes from node_modules: no CDN, no network at build or run time.
// The output depends only on the sources and package-lock.json (no timestamps,
// content-hashed font names), so two builds of the same tree are identical.
//
//   viewer.js   IIFE, global BranchViewer  (bpmn-js NavigatedViewer + path markers)
//   viewer.css  diagram-js, bpmn-js, bpmn-font, frontend/markers.css
//   modeler.js  IIFE, global BranchModeler (Modeler + properties panel + Camunda moddle)
//   modeler.css diagram-js, bpmn-js, bpmn-font, properties panel (complete on its own)
//   dmn.js      IIFE, global BranchDmn (dmn-js decision table editor alone)
//   dmn.css     dmn-js shared + decision table styles, dmn-font (embedded)
//   fonts/      bpmn-font files referenced by both stylesheets
//   swagger/    Swagger UI (swagger-ui-dist) for the API documentation page
import * as esbuild from 'esbuild';
import { rm, mkdir, readFile, copyFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'webapp', 'static', 'build');
const watch = process.argv.includes('--watch');

const common = {
  absWorkingDir: root,
  bundle: true,
  minify: !watch,
  sourcemap: watch ? 'inline' : false,
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  legalComments: 'eof',
  charset: 'utf8',
  logLevel: 'warning',
  metafile: true,
  define: { 'process.env.NODE_ENV': watch ? '"development"' : '"production"' },
};

const builds = [
  {
    ...common,
    entryPoints: { viewer: 'frontend/viewer.js' },
    outdir,
    format: 'iife',
    globalName: 'BranchViewer',
  },
  {
    ...common,
    entryPoints: { modeler: 'frontend/modeler.js' },
    outdir,
    format: 'iife',
    globalName: 'BranchModeler',
    loader: { '.json': 'json' },
  },
  {
    ...common,
    entryPoints: { dmn: 'frontend/dmn.js' },
    outdir,
    format: 'iife',
    globalName: 'BranchDmn',
    loader: { '.json': 'json' },
    jsx: 'automatic',
  },
  {
    ...common,
    entryPoints: { viewer: 'frontend/viewer.css', modeler: 'frontend/modeler.css', dmn: 'frontend/dmn.css' },
    outdir,
    // The bpmn-font urls carry a cache-busting query (bpmn.woff2?44822120);
    // esbuild resolves the file and writes it once under fonts/.
    loader: { '.eot': 'file', '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.svg': 'file' },
    assetNames: 'fonts/[name]-[hash]',
  },
];

function kib(bytes) {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

async function report(results) {
  const files = results.flatMap((r) => Object.keys(r.metafile.outputs)).sort();
  for (const file of files) {
    const data = await readFile(path.join(root, file));
    const gz = gzipSync(data, { level: 9 }).length;
    console.log(`  ${file.padEnd(48)} ${kib(data.length).padStart(10)}  (gzip ${kib(gz)})`);
  }
}

if (watch) {
  await mkdir(outdir, { recursive: true });
  for (const options of builds) {
    const ctx = await esbuild.context({ ...options, logLevel: 'info' });
    await ctx.watch();
  }
  console.log(`watching frontend/ -> ${path.relative(root, outdir)}/`);
} else {
  // Start clean so no file of an older build is left behind.
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const results = await Promise.all(builds.map((options) => esbuild.build(options)));
  // Swagger UI for /api/v1/docs, copied as distributed (already minified).
  await mkdir(path.join(outdir, 'swagger'), { recursive: true });
  for (const file of ['swagger-ui-bundle.js', 'swagger-ui.css']) {
    await copyFile(path.join(root, 'node_modules', 'swagger-ui-dist', file), path.join(outdir, 'swagger', file));
  }
  console.log(`built ${path.relative(root, outdir)}/:`);
  await report(results);
}
