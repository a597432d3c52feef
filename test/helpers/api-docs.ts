/**
 * Reads the public API's declarations with the TypeScript compiler: every name exported from
 * src/index.ts (namespaces opened), the kind of what it names, and its doc comment.
 */
import ts from 'typescript';
import { join } from 'node:path';

export interface PublicName {
  /** e.g. 'rsa.computeRdm' or 'figure'. */
  name: string;
  kind: 'function' | 'class' | 'value' | 'type';
  /** The doc comment's text (without tags). */
  doc: string;
  /** The @example tags' texts. */
  examples: string[];
  file: string;
}

export function publicNames(root: string): PublicName[] {
  const program = ts.createProgram([join(root, 'src', 'index.ts')], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true });
  const checker = program.getTypeChecker();
  const index = program.getSourceFile(join(root, 'src', 'index.ts'))!;
  const out: PublicName[] = [];
  const visit = (symbol: ts.Symbol, prefix: string) => {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    const name = prefix + symbol.getName();
    if (target.flags & ts.SymbolFlags.ValueModule) {
      for (const s of checker.getExportsOfModule(target)) visit(s, `${name}.`);
      return;
    }
    const decl = target.declarations?.[0];
    if (decl === undefined) return;
    const kind = target.flags & ts.SymbolFlags.Function ? 'function' : target.flags & ts.SymbolFlags.Class ? 'class' : target.flags & ts.SymbolFlags.Value ? 'value' : 'type';
    // The implementation's doc comment (overloads carry theirs on the first declaration).
    const decls = target.declarations ?? [];
    const tags = decls.flatMap((d) => ts.getJSDocTags(d));
    const doc = ts.displayPartsToString(target.getDocumentationComment(checker));
    out.push({
      name,
      kind,
      doc,
      examples: tags.filter((t) => t.tagName.text === 'example').map((t) => (typeof t.comment === 'string' ? t.comment : ts.getTextOfJSDocComment(t.comment) ?? '')),
      file: decl.getSourceFile().fileName.slice(root.length + 1),
    });
  };
  for (const s of checker.getExportsOfModule(checker.getSymbolAtLocation(index)!)) visit(s, '');
  return out;
}
