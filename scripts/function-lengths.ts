/**
 * Lists the longest functions in `src/` and fails if one is too long.
 * Run: `npx tsx scripts/function-lengths.ts [--max N]` (or `npm run lint:functions`).
 *
 * Every function counts: declarations, methods, constructors, accessors, function expressions and
 * arrow functions. A function's length is its lines from its first to its last, nested functions
 * included, so a factory that returns an object of closures counts whole. Prints the top 10 and
 * exits 1 if any function is `max` lines or longer (default {@link DEFAULT_MAX_FUNCTION_LINES}).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import ts from 'typescript'

/** A function must be shorter than this many lines. */
export const DEFAULT_MAX_FUNCTION_LINES = 120

/** One measured function. */
export interface FunctionLength {
  /** The file, relative to the project root, with `/` separators (e.g. `src/peerset.ts`). */
  file: string
  /** A readable name: `name`, `Class.method`, `outer > <arrow>`. */
  name: string
  /** First line, 1-based. */
  line: number
  /** Lines from the first to the last, inclusive. */
  lines: number
}

/** Every `.ts` file under `dir`, recursively (no `.d.ts`), sorted. */
export function listTypeScriptFiles(dir: string): string[] {
  const files: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) files.push(...listTypeScriptFiles(path))
    else if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.push(path)
  }
  return files.sort()
}

/** Every function in one source text, in source order. `file` is only used to label the results. */
export function measureSource(file: string, text: string): FunctionLength[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
  const found: FunctionLength[] = []
  const lineOf = (pos: number) => source.getLineAndCharacterOfPosition(pos).line + 1
  const visit = (node: ts.Node, outer: string | undefined): void => {
    let scope = outer
    if (isMeasuredFunction(node)) {
      const own = functionName(node)
      scope = outer ? `${outer} > ${own}` : own
      const line = lineOf(node.getStart(source))
      found.push({ file, name: scope, line, lines: lineOf(node.getEnd()) - line + 1 })
    }
    ts.forEachChild(node, (child) => visit(child, scope))
  }
  visit(source, undefined)
  return found
}

/**
 * Every function of every `.ts` file under `projectRoot/folder`, longest first. Files are named
 * relative to `projectRoot` (e.g. `src/peerset.ts`); `exclude` lists such names to skip.
 */
export function measureFunctions(projectRoot: string, folder = 'src', exclude: readonly string[] = []): FunctionLength[] {
  const root = resolve(projectRoot)
  const skipped = new Set(exclude)
  const all: FunctionLength[] = []
  for (const path of listTypeScriptFiles(join(root, folder))) {
    const file = relative(root, path).split(sep).join('/')
    if (!skipped.has(file)) all.push(...measureSource(file, readFileSync(path, 'utf8')))
  }
  return all.sort((a, b) => b.lines - a.lines || a.file.localeCompare(b.file) || a.line - b.line)
}

/** The functions of `measured` that are `max` lines or longer. */
export function tooLong(measured: readonly FunctionLength[], max = DEFAULT_MAX_FUNCTION_LINES): FunctionLength[] {
  return measured.filter((f) => f.lines >= max)
}

/** A plain-text table of the first `limit` functions of `measured`. */
export function formatTable(measured: readonly FunctionLength[], limit = 10): string {
  const rows = measured.slice(0, limit).map((f) => [String(f.lines), `${f.file}:${f.line}`, f.name])
  const header = ['lines', 'where', 'function']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const format = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd()
  return [format(header), format(widths.map((w) => '-'.repeat(w))), ...rows.map(format)].join('\n')
}

function isMeasuredFunction(node: ts.Node): node is ts.FunctionLikeDeclaration {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isFunctionExpression(node) ||
    ts.isArrowFunction(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node)
  )
}

/** `name`, `Class.name`, the variable or property an anonymous function is assigned to, or `<arrow>`. */
function functionName(node: ts.FunctionLikeDeclaration): string {
  const own = node.name ? nameText(node.name) : assignedName(node)
  const owner = ts.isClassLike(node.parent) ? (node.parent.name?.text ?? '<class>') : undefined
  const label = ts.isConstructorDeclaration(node) ? 'constructor' : (own ?? (ts.isArrowFunction(node) ? '<arrow>' : '<function>'))
  return owner ? `${owner}.${label}` : label
}

function assignedName(node: ts.Node): string | undefined {
  const parent = node.parent
  if ((ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) && parent.initializer === node) {
    return nameText(parent.name)
  }
  return undefined
}

function nameText(name: ts.Node): string | undefined {
  if (ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name)) return name.text
  return undefined
}

function parseMax(args: readonly string[]): number {
  const at = args.indexOf('--max')
  if (at === -1) return DEFAULT_MAX_FUNCTION_LINES
  const max = Number(args[at + 1])
  if (!Number.isInteger(max) || max < 1) throw new Error('--max needs a positive integer')
  return max
}

function main(): void {
  const max = parseMax(process.argv.slice(2))
  const measured = measureFunctions(resolve(import.meta.dirname, '..'))
  console.log(formatTable(measured))
  const over = tooLong(measured, max)
  if (over.length === 0) return console.log(`\nall ${measured.length} functions in src/ are under ${max} lines`)
  console.log(`\n${over.length} function(s) of ${max} lines or more:`)
  for (const f of over) console.log(`  ${f.lines}  ${f.file}:${f.line}  ${f.name}`)
  process.exitCode = 1
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main()
