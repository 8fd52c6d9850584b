import { createHash } from 'node:crypto';
import {
  CompactRange,
  consistencyProof,
  EMPTY_TREE_ROOT,
  inclusionProof,
  leafHash,
  MemoryMerkleTree,
  merkleRoot,
  nodeHash,
  rangeDecomposition,
  verifyConsistency,
  verifyInclusion,
} from './merkle';

/**
 * Vectors: the RFC 6962 test tree of Certificate Transparency (eight leaves, roots for every size,
 * audit paths and consistency proofs) as published in the CT implementations' test suites.
 */
const LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map((hex) => Buffer.from(hex, 'hex'));
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const INCLUSION: [index: number, size: number, path: string[]][] = [
  [
    0,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    5,
    8,
    [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [
    1,
    5,
    [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
];
const CONSISTENCY: [first: number, second: number, proof: string[]][] = [
  [1, 1, []],
  [
    1,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    6,
    8,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [
    2,
    5,
    [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
  [
    3,
    8,
    [
      '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
      '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
      'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
];

const hex = (hashes: readonly Buffer[]): string[] => hashes.map((h) => h.toString('hex'));
const unhex = (hashes: readonly string[]): Buffer[] => hashes.map((h) => Buffer.from(h, 'hex'));

function ctTree(size = 8): MemoryMerkleTree {
  const tree = new MemoryMerkleTree();
  for (const leaf of LEAVES.slice(0, size)) tree.append(leafHash(leaf));
  return tree;
}

/** RFC 6962 §2.1 MTH written straight from its recursive definition: an independent reference. */
function referenceMth(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return leaves[0];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return createHash('sha256')
    .update(Buffer.from([1]))
    .update(referenceMth(leaves.slice(0, k)))
    .update(referenceMth(leaves.slice(k)))
    .digest();
}

/** A seeded generator, so a failing property names a case that can be replayed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function flipBit(value: Buffer, random: () => number): Buffer {
  const copy = Buffer.from(value);
  const bit = Math.floor(random() * copy.length * 8);
  copy[bit >> 3] ^= 1 << (bit & 7);
  return copy;
}

describe('RFC 6962 hashing', () => {
  it('hashes the empty tree, leaves and nodes with domain separation', () => {
    expect(EMPTY_TREE_ROOT.toString('hex')).toBe(ROOTS[0]);
    expect(leafHash(Buffer.alloc(0)).toString('hex')).toBe(ROOTS[1]);
    expect(leafHash(Buffer.from([0])).toString('hex')).toBe(
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    );
    expect(leafHash('\u00e9')).toEqual(leafHash(Buffer.from('\u00e9', 'utf8')));
    const l = leafHash(LEAVES[0]);
    const r = leafHash(LEAVES[1]);
    expect(nodeHash(l, r).toString('hex')).toBe(ROOTS[2]);
  });

  it('computes the CT test tree roots for every size 0..8', () => {
    const tree = ctTree();
    const range = new CompactRange(0);
    expect(range.root().toString('hex')).toBe(ROOTS[0]);
    for (let size = 1; size <= 8; size++) {
      range.appendLeaf(leafHash(LEAVES[size - 1]));
      expect(range.root().toString('hex')).toBe(ROOTS[size]);
      expect(tree.root(size).toString('hex')).toBe(ROOTS[size]);
      expect(merkleRoot(LEAVES.slice(0, size).map((l) => leafHash(l))).toString('hex')).toBe(ROOTS[size]);
    }
  });

  it.each(INCLUSION)(
    'produces and verifies the known audit path of leaf %i in a tree of %i',
    (index, size, path) => {
      const tree = ctTree();
      const proof = inclusionProof(tree, index, size);
      expect(hex(proof)).toEqual(path);
      const root = Buffer.from(ROOTS[size], 'hex');
      const leaf = leafHash(LEAVES[index]);
      expect(verifyInclusion(index, size, leaf, proof, root)).toBe(true);
      expect(verifyInclusion(index + 1, size, leaf, proof, root)).toBe(false);
      expect(verifyInclusion(index, size * 2, leaf, proof, root)).toBe(false);
      expect(verifyInclusion(index, size, leafHash('WrongLeaf'), proof, root)).toBe(false);
      expect(verifyInclusion(index, size, leaf, proof, EMPTY_TREE_ROOT)).toBe(false);
      expect(verifyInclusion(index, size, leaf, [...proof, root], root)).toBe(false);
      expect(verifyInclusion(index, size, leaf, proof.slice(0, -1), root)).toBe(false);
      expect(verifyInclusion(index, size, leaf, [root, ...proof], root)).toBe(false);
    },
  );

  it.each(CONSISTENCY)(
    'produces and verifies the known consistency proof from %i to %i',
    (first, second, expected) => {
      const tree = ctTree();
      const proof = consistencyProof(tree, first, second);
      expect(hex(proof)).toEqual(expected);
      const firstRoot = Buffer.from(ROOTS[first], 'hex');
      const secondRoot = Buffer.from(ROOTS[second], 'hex');
      expect(verifyConsistency(first, second, firstRoot, secondRoot, unhex(expected))).toBe(true);
      if (first !== second) {
        expect(verifyConsistency(first, second, secondRoot, firstRoot, proof)).toBe(false);
        expect(verifyConsistency(first - 1, second, firstRoot, secondRoot, proof)).toBe(false);
        expect(verifyConsistency(first, second * 2, firstRoot, secondRoot, proof)).toBe(false);
        expect(verifyConsistency(first, second, firstRoot, secondRoot, [])).toBe(false);
        expect(verifyConsistency(first, second, firstRoot, secondRoot, [...proof, firstRoot])).toBe(false);
        expect(verifyConsistency(first, second, firstRoot, secondRoot, proof.slice(0, -1))).toBe(false);
      }
    },
  );

  it('handles the trivial and impossible consistency cases like the reference implementations', () => {
    const r = Buffer.from(ROOTS[3], 'hex');
    expect(verifyConsistency(0, 0, EMPTY_TREE_ROOT, EMPTY_TREE_ROOT, [])).toBe(true);
    expect(verifyConsistency(0, 3, EMPTY_TREE_ROOT, r, [])).toBe(true);
    expect(verifyConsistency(0, 3, EMPTY_TREE_ROOT, r, [r])).toBe(false);
    expect(verifyConsistency(3, 3, r, r, [])).toBe(true);
    expect(verifyConsistency(3, 3, r, EMPTY_TREE_ROOT, [])).toBe(false);
    expect(verifyConsistency(3, 3, r, r, [r])).toBe(false);
    expect(verifyConsistency(3, 2, r, r, [])).toBe(false);
    expect(verifyConsistency(1, 2, r, r, [])).toBe(false);
    expect(verifyInclusion(0, 0, r, [], r)).toBe(false);
    expect(verifyInclusion(2, 1, r, [], r)).toBe(false);
  });
});

describe('compact ranges', () => {
  it('decomposes ranges into maximal aligned subtrees', () => {
    expect(rangeDecomposition(0, 0)).toEqual([]);
    expect(rangeDecomposition(0, 13)).toEqual([
      { level: 3, index: 0 },
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
    expect(rangeDecomposition(3, 9)).toEqual([
      { level: 0, index: 3 },
      { level: 2, index: 1 },
      { level: 0, index: 8 },
    ]);
    expect(rangeDecomposition(2 ** 40 - 1, 2 ** 40 + 2)).toEqual([
      { level: 0, index: 2 ** 40 - 1 },
      { level: 1, index: 2 ** 39 },
    ]);
  });

  it('summarises any [begin, end) with the same hashes the full tree has for it, in O(log n) nodes', () => {
    const random = prng(7);
    const tree = new MemoryMerkleTree();
    const leaves: Buffer[] = [];
    for (let i = 0; i < 300; i++) {
      leaves.push(leafHash(`leaf ${i}`));
      tree.append(leaves[i]);
    }
    for (let trial = 0; trial < 200; trial++) {
      const begin = Math.floor(random() * 300);
      const end = begin + Math.floor(random() * (300 - begin + 1));
      const range = new CompactRange(begin);
      for (let i = begin; i < end; i++) range.appendLeaf(leaves[i]);
      const expected = rangeDecomposition(begin, end).map((ref) => tree.subtree(ref.level, ref.index));
      expect(range.nodeHashes()).toEqual(expected);
      expect(range.nodeHashes().length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(end - begin + 1)) + 1);
      // Appending the range's nodes to the frontier of [0, begin) gives the root of [0, end).
      const frontier = CompactRange.fromHashes(
        0,
        begin,
        rangeDecomposition(0, begin).map((r) => tree.subtree(r.level, r.index)),
      );
      rangeDecomposition(begin, end).forEach((ref, i) => frontier.appendSubtree(ref.level, expected[i]));
      expect(frontier.root()).toEqual(tree.root(end));
    }
  });

  it('refuses a subtree that is not aligned with the range end', () => {
    const range = new CompactRange(0);
    range.appendLeaf(leafHash('a'));
    expect(() => range.appendSubtree(1, leafHash('b'))).toThrow(/cannot start at index 1/);
  });
});

describe('proof properties over random trees of 1..300 leaves', () => {
  const random = prng(6962);
  const leaves = Array.from({ length: 300 }, (_, i) => leafHash(`entry ${i}`));
  const tree = new MemoryMerkleTree();
  leaves.forEach((leaf) => tree.append(leaf));

  it('matches the recursive MTH definition at every size', () => {
    const range = new CompactRange(0);
    for (let size = 1; size <= 300; size++) {
      range.appendLeaf(leaves[size - 1]);
      const expected = referenceMth(leaves.slice(0, size));
      expect(range.root()).toEqual(expected);
      expect(tree.root(size)).toEqual(expected);
    }
  });

  // Edge sizes around powers of two, plus random sizes: every leaf and every earlier size of each.
  const sizes = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 127, 128, 129, 255, 256, 257, 300];
  while (sizes.length < 36) sizes.push(1 + Math.floor(random() * 300));

  it('verifies every inclusion proof it produces and rejects any single bit flip', () => {
    for (const size of sizes) {
      const root = tree.root(size);
      for (let index = 0; index < size; index++) {
        const proof = inclusionProof(tree, index, size);
        expect(verifyInclusion(index, size, leaves[index], proof, root)).toBe(true);
        expect(verifyInclusion(index, size, flipBit(leaves[index], random), proof, root)).toBe(false);
        expect(verifyInclusion(index, size, leaves[index], proof, flipBit(root, random))).toBe(false);
        if (proof.length > 0) {
          const tampered = [...proof];
          const at = Math.floor(random() * proof.length);
          tampered[at] = flipBit(proof[at], random);
          expect(verifyInclusion(index, size, leaves[index], tampered, root)).toBe(false);
        }
        if (size > 1)
          expect(verifyInclusion((index + 1) % size, size, leaves[index], proof, root)).toBe(false);
      }
    }
  });

  it('verifies every consistency proof it produces and rejects any single bit flip', () => {
    for (const second of sizes) {
      const secondRoot = tree.root(second);
      for (let first = 1; first <= second; first++) {
        const firstRoot = tree.root(first);
        const proof = consistencyProof(tree, first, second);
        expect(verifyConsistency(first, second, firstRoot, secondRoot, proof)).toBe(true);
        if (first === second) continue;
        expect(verifyConsistency(first, second, flipBit(firstRoot, random), secondRoot, proof)).toBe(false);
        expect(verifyConsistency(first, second, firstRoot, flipBit(secondRoot, random), proof)).toBe(false);
        const tampered = [...proof];
        const at = Math.floor(random() * proof.length);
        tampered[at] = flipBit(proof[at], random);
        expect(verifyConsistency(first, second, firstRoot, secondRoot, tampered)).toBe(false);
      }
    }
  });
});
