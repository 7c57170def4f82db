/** Where something sits in a config file. Offsets index the file's text; lines and columns count from 1. */
export interface Position {
  file: string;
  line: number;
  column: number;
  start: number;
  end: number;
}

export interface Arg extends Position {
  /** The value nginx sees: quotes removed, escapes resolved. */
  value: string;
  /** Exactly as written. */
  raw: string;
  quote: '"' | "'" | null;
}

export interface Comment extends Position {
  kind: 'comment';
  /** Text after '#'. */
  text: string;
}

export interface Directive extends Position {
  kind: 'directive';
  name: string;
  /** The name exactly as written (quoted, in map/geo blocks). */
  nameRaw: string;
  args: Arg[];
  /** Present for block directives (`http { … }`); `end` then covers the closing brace. */
  block?: ConfigNode[];
  /** Comments written between the directive's words (`listen 80 # note` + newline + `default_server;`). */
  comments?: Comment[];
  /** For `*_by_lua_block { … }`: the body, kept opaque. */
  opaqueBody?: string;
}

export type ConfigNode = Directive | Comment;

export interface ConfigFile {
  path: string;
  text: string;
  nodes: ConfigNode[];
}
