/** The report's whole style sheet, inlined so the page has no external assets. */
export const REPORT_CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1260px;color:#1d1d1f;padding:0 20px;background:#fff}
h1{font-size:23px;margin:0 0 2px}
h2{font-size:17px;margin:30px 0 8px;padding-bottom:4px;border-bottom:1px solid #ddd}
.meta{color:#555;margin:0 0 14px;word-break:break-all}
.note{color:#666;font-size:12.5px;margin:6px 0;max-width:1000px}
.legend{font-size:13px;color:#333;margin:4px 0 10px}
.warn{background:#fff4e0;border-left:4px solid #e69500;padding:6px 10px}
.cols{display:flex;flex-wrap:wrap;gap:28px;align-items:flex-start}
table{border-collapse:collapse;margin:6px 0}
th,td{padding:4px 10px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
thead th{border-bottom:2px solid #ccc;font-weight:600;color:#333}
.kv{max-width:720px}.kv th{color:#555;font-weight:600;white-space:nowrap}
.kv td{word-break:break-word}
table.num td,table.num thead th{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.num tbody th{text-align:left;font-weight:normal;white-space:nowrap}
.miou thead tr:first-child th{text-align:center}
.time thead th:first-child{text-align:left}
.time tr.total th,.time tr.total td{font-weight:600;border-top:2px solid #ccc}
.miou .group,.miou tbody td:nth-of-type(3),.miou tbody td:nth-of-type(6),.miou tbody td:nth-of-type(9){border-left:1px solid #ddd}
.miou tr.count th,.miou tr.count td{color:#777;font-size:12.5px}
.miou tr.exits th,.miou tr.exits td{background:#eef5ff;font-weight:600}
.miou tr.gain th{color:#555;font-size:12.5px}.miou tr.gain td{font-size:12.5px;font-weight:600}
.up{color:#0a7d27}.down{color:#b00020}
.charts{display:flex;flex-wrap:wrap;gap:20px}
.chart{border:1px solid #eee;background:#fcfcfc}
.chart text{font-size:11px;fill:#444}.chart .title{font-size:13px;font-weight:600;fill:#222}
.chart .grid{stroke:#e6e6e6}.chart .axis{stroke:#888}
.gallery{display:flex;flex-wrap:wrap;gap:10px}
figure{margin:0;width:194px}
figure img{display:block;max-width:192px;height:auto;border:1px solid #bbb;image-rendering:pixelated}
figcaption{font-size:12px;color:#333;margin-top:3px}
.sw{display:inline-block;width:12px;height:12px;vertical-align:-1px;margin-right:2px}
.sw.dot{border-radius:50%;border:1px solid #000;width:10px;height:10px}
.sw.edge{border:2px solid #000;width:8px;height:8px}
`;
