// Generated from server/notesboard/contract/fields.py by `make docs`: do not edit (a test checks it).

export const BOARD_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const CLIENT_ID_RE = /^[A-Za-z0-9_.:-]{1,64}$/;
export const COLOR_RE = /^#[0-9A-Fa-f]{6}$/;
export const MAX_NAME = 64; // a display name, in characters
export const MAX_TEXT = 10000; // the server's default max_text; longer text is refused (too_large)
export const COORD_LIMIT = 1000000; // |x| and |y| of a note
export const SIZE_MIN = 60; // a note's w and h
export const SIZE_MAX = 4000;
export const Z_LIMIT = 1000000000; // |z|, the stacking order
export const DEFAULT_W = 208;
export const DEFAULT_H = 150;
