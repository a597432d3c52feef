// Checks on rendered output shared by the plot and report tests.

/** Width and height from a PNG's IHDR chunk (bytes 16-23, big-endian). */
export function pngSize(png: Uint8Array): [number, number] {
  const v = new DataView(png.buffer, png.byteOffset);
  return [v.getUint32(16), v.getUint32(20)];
}

/** The first element that is not properly closed, or null when the markup nests correctly. */
export function unbalancedTag(xml: string): string | null {
  const stack: string[] = [];
  for (const m of xml.matchAll(/<(\/?)([a-zA-Z][\w:-]*)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (selfClosing) continue;
    if (!closing) stack.push(name);
    else if (stack.pop() !== name) return name;
  }
  return stack.length ? stack[stack.length - 1] : null;
}
