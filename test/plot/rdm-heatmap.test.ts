import { describe, it, expect } from 'vitest';
import { rdmHeatmapSpec, RDM_AXIS_LABEL_MAX } from '../../src/plot/rdm-heatmap.js';
import { pairIndex as condensedIndex } from '../../src/rsa/condensed.js';
import { specToSvg, svgToPng } from '../../src/plot/render.js';
import { NestlabArgumentError } from '../../src/errors.js';
import { decodePng } from '../helpers/png-decode.js';

type Cell = { row: number; col: number; value: number | null };

function cells(spec: unknown): Cell[] {
  return (spec as { data: { values: Cell[] } }).data.values;
}

/** The value at (row, col) of the spec's data. */
function at(rows: Cell[], row: number, col: number): number | null {
  const hit = rows.filter((c) => c.row === row && c.col === col);
  expect(hit).toHaveLength(1);
  return hit[0].value;
}

/** The rendered rects: position on the grid (from the path's origin and the cell size) and the value vega announces. */
function renderedCells(svg: string, cell: number): Map<string, { value: number; fill: string }> {
  const out = new Map<string, { value: number; fill: string }>();
  const re = /<path aria-label="[^"]*?; m: ([^;"]+);[^"]*" role="graphics-symbol" aria-roledescription="rect mark" d="M([\d.]+),([\d.]+)h[^"]*" fill="([^"]+)"/g;
  for (const m of svg.matchAll(re)) out.set(`${Number(m[3]) / cell},${Number(m[2]) / cell}`, { value: Number(m[1]), fill: m[4] });
  return out;
}

/** The y axis' labels, top to bottom. */
function yAxisLabels(svg: string): string[] {
  const axis = /aria-label="Y-axis[^"]*">(.*?)<g class="mark-rule role-axis-domain"/.exec(svg);
  if (axis === null) return [];
  return [...axis[1].matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
}

describe('rdmHeatmapSpec', () => {
  it('puts each condensed value (scipy pdist order) on its two cells, zero on the diagonal', () => {
    // pdist order for n = 4: (0,1) (0,2) (0,3) (1,2) (1,3) (2,3)
    const rows = cells(rdmHeatmapSpec({ values: [1, 2, 3, 4, 5, 6], n: 4, measure: 'euclidean' }));
    expect(rows).toHaveLength(16);
    const expected = [
      [0, 1, 2, 3],
      [1, 0, 4, 5],
      [2, 4, 0, 6],
      [3, 5, 6, 0],
    ];
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(at(rows, i, j)).toBe(expected[i][j]);
  });

  it('matches a brute-force squareform on a random RDM, and is symmetric', () => {
    const n = 9;
    const values = Float64Array.from({ length: (n * (n - 1)) / 2 }, (_, k) => Math.round(((k * 7919) % 101) * 10) / 1000);
    const rows = cells(rdmHeatmapSpec({ values, n, measure: 'correlation' }));
    let k = 0;
    for (let i = 0; i < n; i++) {
      expect(at(rows, i, i)).toBe(0);
      for (let j = i + 1; j < n; j++, k++) {
        expect(condensedIndex(n, i, j)).toBe(k);
        expect(at(rows, i, j)).toBe(values[k]);
        expect(at(rows, j, i)).toBe(values[k]);
      }
    }
  });

  it('titles the color legend by the measure and uses a sequential scale', () => {
    const spec = rdmHeatmapSpec({ values: [0.5], n: 2, measure: 'crossnobis' }) as { encoding: { color: { title: string; type: string; scale: { scheme: string } } }; title: { text: string } };
    expect(spec.encoding.color).toMatchObject({ title: 'crossnobis', type: 'quantitative', scale: { scheme: 'viridis' } });
    expect(spec.title.text).toBe('RDM (crossnobis, 2 stimuli)');
    expect((rdmHeatmapSpec({ values: [0.5], n: 2, measure: 'x' }, { title: 'Layer 3' }) as { title: { text: string } }).title.text).toBe('Layer 3');
  });

  it('renders through specToSvg/svgToPng: values on the right rects, labels in stimulus order', async () => {
    // labels that a string sort would reorder ('10' < '9', 'a' < 'b'), and a repeated one
    const labels = ['10', '9', 'b', 'a', 'b'];
    const n = labels.length;
    const values = Array.from({ length: (n * (n - 1)) / 2 }, (_, k) => k + 1);
    const spec = rdmHeatmapSpec({ values, n, measure: 'm' }, { labels });
    const svg = await specToSvg(spec);
    expect(yAxisLabels(svg)).toEqual(labels);
    const drawn = renderedCells(svg, 20); // 5 stimuli: 20 px cells
    expect(drawn.size).toBe(n * n); // the repeated label did not merge cells
    for (let i = 0; i < n; i++) {
      expect(drawn.get(`${i},${i}`)!.value).toBe(0);
      for (let j = i + 1; j < n; j++) {
        const v = values[condensedIndex(n, i, j)];
        expect(drawn.get(`${i},${j}`)!.value).toBe(v);
        expect(drawn.get(`${j},${i}`)!.value).toBe(v);
        expect(drawn.get(`${j},${i}`)!.fill).toBe(drawn.get(`${i},${j}`)!.fill);
      }
    }
    const png = decodePng(svgToPng(svg));
    expect(png.width).toBeGreaterThan(200);
    // the lowest value (the diagonal) takes viridis' dark end, the highest its yellow end
    expect(drawn.get('0,0')!.fill).toBe('rgb(68, 1, 84)');
    expect(drawn.get(`${n - 2},${n - 1}`)!.fill).toBe('rgb(253, 231, 37)');
  });

  it('labels the axes with indices by default, and drops axis labels past 60 stimuli', async () => {
    const small = await specToSvg(rdmHeatmapSpec({ values: [1, 2, 3], n: 3, measure: 'm' }));
    expect(yAxisLabels(small)).toEqual(['0', '1', '2']);
    const n = RDM_AXIS_LABEL_MAX + 1;
    const big = rdmHeatmapSpec({ values: new Float64Array((n * (n - 1)) / 2).fill(1), n, measure: 'm' });
    expect(yAxisLabels(await specToSvg(big))).toEqual([]);
    expect((big as { width: number }).width).toBeLessThanOrEqual(480);
  });

  it('stays readable at 200 stimuli (whole-pixel cells within 480 px) and renders', async () => {
    const n = 200;
    const values = Float64Array.from({ length: (n * (n - 1)) / 2 }, (_, k) => (k % 97) / 97);
    const spec = rdmHeatmapSpec({ values, n, measure: 'correlation' }) as { width: number; height: number };
    expect(spec.width).toBe(400); // 2 px per cell
    expect(spec.height).toBe(400);
    expect(cells(spec)).toHaveLength(n * n);
    const png = decodePng(svgToPng(await specToSvg(spec as never), 1));
    expect(png.height).toBeGreaterThan(400);
  });

  it('shows maxStimuli evenly spaced stimuli of a larger RDM, and says so', () => {
    const n = 10;
    const values = Array.from({ length: 45 }, (_, k) => k + 1);
    const labels = Array.from({ length: n }, (_, i) => `s${i}`);
    const spec = rdmHeatmapSpec({ values, n, measure: 'm', patternDescriptors: { name: labels } }, { maxStimuli: 4 }) as unknown as {
      title: { subtitle: string };
      params: { value: string[] }[];
      data: { values: Cell[] };
    };
    expect(spec.params[0].value).toEqual(['s0', 's3', 's6', 's9']);
    expect(spec.title.subtitle).toBe('showing 4 of 10 stimuli, evenly spaced');
    expect(at(spec.data.values, 0, 3)).toBe(values[condensedIndex(n, 0, 9)]);
    expect(at(spec.data.values, 2, 1)).toBe(values[condensedIndex(n, 3, 6)]);
  });

  it('rejects a malformed RDM, naming the argument', () => {
    expect(() => rdmHeatmapSpec({ values: [1, 2], n: 3, measure: 'm' })).toThrow(/rdm\.values must be the condensed upper triangle of 3 stimuli/);
    expect(() => rdmHeatmapSpec({ values: [1, 2, 3], n: 3, measure: '' })).toThrow(NestlabArgumentError);
    expect(() => rdmHeatmapSpec({ values: [1, 2, 3], n: 3, measure: 'm' }, { labels: ['a'] })).toThrow(/options\.labels must be an array of 3 labels/);
    expect(() => rdmHeatmapSpec({ values: [1, 2, 3], n: 3, measure: 'm' }, { labels: 'digit' })).toThrow(/options\.labels must be the name of a pattern descriptor \(this RDM has none\)/);
    expect(() => rdmHeatmapSpec({ values: [1, 2, 3], n: 3, measure: 'm' }, { maxStimuli: 1 })).toThrow(/options\.maxStimuli/);
  });

  it("labels the axes with the RDM's first pattern descriptor by default", () => {
    const spec = rdmHeatmapSpec({ values: [1, 2, 3], n: 3, measure: 'm', patternDescriptors: { digit: [7, 1, 4] } }) as unknown as { params: { value: string[] }[] };
    expect(spec.params[0].value).toEqual(['7', '1', '4']);
  });
});
