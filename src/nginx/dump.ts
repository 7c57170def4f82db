/**
 * Splits `nginx -T` output into the files nginx loaded. nginx writes each as
 * "# configuration file PATH:\n", the file's bytes, then one "\n".
 */
export interface DumpedFile {
  path: string;
  text: string;
}

const HEADER = /^# configuration file (.+):$/gm;

export function splitDump(dump: string): DumpedFile[] {
  const headers = [...dump.matchAll(HEADER)];
  return headers.map((header, i) => {
    const bodyStart = header.index + header[0].length + 1;
    const bodyEnd = i + 1 < headers.length ? headers[i + 1]!.index : dump.length;
    let text = dump.slice(bodyStart, bodyEnd);
    if (text.endsWith('\n')) text = text.slice(0, -1);
    return { path: header[1]!, text };
  });
}
