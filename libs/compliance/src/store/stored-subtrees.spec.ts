import { createHash } from 'node:crypto';
import {
  compactRangeHashes,
  consistencyProof,
  inclusionProof,
  MemoryMerkleTree,
  type MerkleNodeSource,
} from '../merkle';
import { FetchedSubtrees, MerkleFrontier, subtreesRead, type StoredSubtree } from './stored-subtrees';

const leaf = (i: number): Buffer => createHash('sha256').update(`leaf ${i}`).digest();

function memoryTree(size: number): MemoryMerkleTree {
  const tree = new MemoryMerkleTree();
  for (let i = 0; i < size; i++) tree.append(leaf(i));
  return tree;
}

describe('MerkleFrontier', () => {
  it('yields every interior node exactly once, with the hashes of the in-memory tree, and its roots', () => {
    const reference = memoryTree(300);
    const frontier = new MerkleFrontier(0, []);
    const nodes: StoredSubtree[] = [];
    for (let i = 0; i < 300; i++) {
      nodes.push(...frontier.append(leaf(i)));
      expect(frontier.root()).toEqual(reference.root(i + 1));
    }
    // 300 leaves have 150 + 75 + 37 + 18 + 9 + 4 + 2 + 1 complete interior nodes.
    expect(nodes).toHaveLength(296);
    for (const node of nodes) expect(node.hash).toEqual(reference.subtree(node.level, node.index));
  });

  it('resumes from a stored compact range as if it had never stopped', () => {
    const reference = memoryTree(77);
    const frontier = new MerkleFrontier(45, compactRangeHashes(reference, 0, 45));
    const nodes = Array.from({ length: 32 }, (_, k) => frontier.append(leaf(45 + k))).flat();
    expect(frontier.treeSize).toBe(77);
    expect(frontier.root()).toEqual(reference.root());
    expect(nodes.map((n) => `${n.level}/${n.index}`)).toContain('5/1');
    for (const node of nodes) expect(node.hash).toEqual(reference.subtree(node.level, node.index));
  });

  it('refuses a compact range of the wrong length', () => {
    expect(() => new MerkleFrontier(5, [leaf(0)])).toThrow(/has 2 nodes/);
  });
});

describe('subtreesRead and FetchedSubtrees', () => {
  it('learn which nodes a proof reads, then compute it from only those', () => {
    const tree = memoryTree(1000);
    const proofs = (nodes: MerkleNodeSource) => [
      compactRangeHashes(nodes, 0, 613),
      consistencyProof(nodes, 389, 1000),
      inclusionProof(nodes, 17, 999),
    ];
    const refs = subtreesRead(1000, proofs);
    const fetched = new FetchedSubtrees(
      1000,
      refs.map((r) => ({ ...r, hash: tree.subtree(r.level, r.index) })),
    );
    expect(proofs(fetched)).toEqual(proofs(tree));
    // Far fewer than the tree's ~2,000 nodes.
    expect(refs.length).toBeLessThan(40);
  });

  it('refuses a subtree that is not complete, and one that was not fetched', () => {
    expect(() => subtreesRead(5, (nodes) => nodes.subtree(1, 2))).toThrow(/no complete subtree 1\/2/);
    expect(() => new FetchedSubtrees(8, []).subtree(0, 3)).toThrow(/no complete subtree 0\/3/);
  });
});
