/** Generative-UI components of the agent, styled with Tailwind CSS. */
import "./ui.css";

function AnswerCard(props: { text: string; tone: "cheerful" | "formal" }) {
  const palette = props.tone === "cheerful" ? "bg-amber-100 text-amber-900" : "bg-slate-100 text-slate-900";
  return (
    <div className={`rounded-lg p-3 shadow-sm ${palette}`} data-testid="answer-card">
      <p className="text-sm leading-relaxed">{props.text}</p>
    </div>
  );
}

export default { answer_card: AnswerCard };
