/** The API's JSON `Command` as the LangGraph `Command` it stands for (its `goto` may hold `Send`s). */
import { Command, Send } from "@langchain/langgraph";
import type { components } from "../../generated/openapi.js";

type ApiCommand = components["schemas"]["Command"];
type Goto = NonNullable<ConstructorParameters<typeof Command>[0]>["goto"];

const toGoto = (target: NonNullable<ApiCommand["goto"]>): Goto => {
  const one = (t: string | components["schemas"]["Send"]) => (typeof t === "string" ? t : new Send(t.node, t.input));
  return (Array.isArray(target) ? target.map(one) : one(target)) as Goto;
};

export function toCommand(command: ApiCommand): Command {
  return new Command({
    ...(command.resume !== undefined ? { resume: command.resume } : {}),
    ...(command.update != null ? { update: command.update as Record<string, unknown> | [string, unknown][] } : {}),
    ...(command.goto != null ? { goto: toGoto(command.goto) } : {}),
  });
}
