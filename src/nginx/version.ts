/** A running nginx's version, for version-dependent defaults. */
export interface NginxVersion {
  major: number;
  minor: number;
  patch: number;
}

export function parseVersion(text: string): NginxVersion | null {
  const match = /(\d+)\.(\d+)\.(\d+)/.exec(text);
  return match ? { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]) } : null;
}

export function atLeast(version: NginxVersion, major: number, minor: number, patch: number): boolean {
  if (version.major !== major) return version.major > major;
  if (version.minor !== minor) return version.minor > minor;
  return version.patch >= patch;
}

export function formatVersion(version: NginxVersion): string {
  return `${version.major}.${version.minor}.${version.patch}`;
}
