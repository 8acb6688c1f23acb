/** The PostgreSQL schema Breakwater keeps its tables in (its default, spelled out). */
export const BREAKWATER_SCHEMA = 'breakwater'
