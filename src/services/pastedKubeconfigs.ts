import * as vscode from 'vscode';

const secretKey = 'nkvm.pastedKubeconfigs';

/** Kubeconfigs the user pasted, kept only in VS Code's SecretStorage (never in settings or files). */
export class PastedKubeconfigs implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private entries: Record<string, string> = {};
  private generation = 0;
  private readonly listener: vscode.Disposable;

  constructor(private readonly secrets: vscode.SecretStorage, private readonly log: vscode.LogOutputChannel) {
    this.listener = secrets.onDidChange((e) => {
      if (e.key === secretKey) void this.load();
    });
  }

  /** Reads the stored entries; called once at start and whenever another window changes them. */
  async load(): Promise<void> {
    const generation = this.generation;
    try {
      const text = (await this.secrets.get(secretKey)) ?? '{}';
      // A change made in this window while reading is newer than what was read.
      if (generation !== this.generation) return;
      this.entries = JSON.parse(text);
    } catch (e) {
      this.log.error(`[kubeconfig] the pasted kubeconfigs in SecretStorage could not be read: ${(e as Error).message}`);
      this.entries = {};
    }
    this.changed.fire();
  }

  list(): { name: string; text: string }[] {
    return Object.entries(this.entries).map(([name, text]) => ({ name, text }));
  }

  async add(name: string, text: string): Promise<void> {
    this.generation++;
    this.entries = { ...this.entries, [name]: text };
    await this.secrets.store(secretKey, JSON.stringify(this.entries));
    this.changed.fire();
  }

  async remove(name: string): Promise<void> {
    this.generation++;
    const { [name]: _removed, ...rest } = this.entries;
    this.entries = rest;
    await this.secrets.store(secretKey, JSON.stringify(this.entries));
    this.changed.fire();
  }

  dispose(): void {
    this.listener.dispose();
    this.changed.dispose();
  }
}
