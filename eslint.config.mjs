import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'coverage/',
      '.cluster/',
      '.testground/',
      '.venv/',
      '.bench/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
      // Configuration is read once, in core/config: nothing else may reach for the environment.
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through core/config.' },
      ],
    },
  },
  // The parts share code only through core/: core depends on none of them, and none on another.
  ...[
    ['core', ['operator', 'sidecar', 'cli']],
    ['operator', ['sidecar', 'cli']],
    ['sidecar', ['operator', 'cli']],
    ['cli', ['operator', 'sidecar']],
  ].map(([part, others]) => ({
    files: [`${part}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: others.map((other) => `**/${other}/**`),
              message: `${part}/ may use only core/ and itself: move shared code to core/.`,
            },
          ],
        },
      ],
    },
  })),
  {
    files: ['core/config/**', 'test/**', 'bench/**', 'bin/**', 'jest.config.js'],
    rules: { 'no-restricted-properties': 'off', 'no-console': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
