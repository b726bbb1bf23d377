import * as vscode from 'vscode';
import type { TreeNode } from './tree-node';

/** The thin vscode side of TreeNode: plain data in, TreeItem out. */
function toTreeItem(node: TreeNode): vscode.TreeItem {
  const collapsible =
    node.children && node.children.length > 0
      ? node.expanded
        ? vscode.TreeItemCollapsibleState.Expanded
        : vscode.TreeItemCollapsibleState.Collapsed
      : vscode.TreeItemCollapsibleState.None;
  const item = new vscode.TreeItem(node.label, collapsible);
  item.id = node.id;
  item.contextValue = node.contextValue;
  if (node.description !== undefined) item.description = node.description;
  if (node.tooltip !== undefined) item.tooltip = node.tooltip;
  // Screen readers get the row as seen (label and state), not the long tooltip VS Code would read otherwise.
  item.accessibilityInformation = { label: node.description ? `${node.label}, ${node.description}` : node.label };
  if (node.icon) item.iconPath = new vscode.ThemeIcon(node.icon.id, node.icon.color ? new vscode.ThemeColor(node.icon.color) : undefined);
  if (node.resourcePath) item.resourceUri = vscode.Uri.file(node.resourcePath);
  if (node.command)
    item.command = {
      command: node.command.command,
      title: node.command.title,
      arguments: node.command.arguments ? [...node.command.arguments] : [],
    };
  return item;
}

/** A TreeDataProvider over TreeNode roots that the owner replaces as a whole on every change. */
export class NodeTreeProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private roots: readonly TreeNode[] = [];
  private parents = new Map<string, TreeNode>();
  private readonly _onDidChangeTreeData = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this._onDidChangeTreeData.event;

  get nodes(): readonly TreeNode[] {
    return this.roots;
  }

  setNodes(nodes: readonly TreeNode[]): void {
    this.roots = nodes;
    this.parents = new Map();
    const visit = (parent: TreeNode): void => {
      for (const child of parent.children ?? []) {
        this.parents.set(child.id, parent);
        visit(child);
      }
    };
    nodes.forEach(visit);
    this._onDidChangeTreeData.fire(undefined);
  }

  find(predicate: (node: TreeNode) => boolean): TreeNode | undefined {
    const search = (list: readonly TreeNode[]): TreeNode | undefined => {
      for (const n of list) {
        if (predicate(n)) return n;
        const found = search(n.children ?? []);
        if (found) return found;
      }
      return undefined;
    };
    return search(this.roots);
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    return toTreeItem(node);
  }

  getChildren(node?: TreeNode): TreeNode[] {
    return [...(node ? (node.children ?? []) : this.roots)];
  }

  getParent(node: TreeNode): TreeNode | undefined {
    return this.parents.get(node.id);
  }

  dispose(): void {
    this._onDidChangeTreeData.dispose();
  }
}
