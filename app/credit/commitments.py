"""Credit commitments (信用承诺书, 凌源 实施方案 四(四)2, seed 003 lines ~92-94).

The platform generates the firm's commitment as a PDF from the template below, for the firm's name and
legal representative as registered; the firm uploads the copy signed by its legal representative and
sealed; the receiving unit (a financial office) confirms it or sends it back; a confirmed commitment is
shown on the public page.  When the legal representative or the firm's name changes, the commitment
lapses until a new one is signed and confirmed ("法定代表人或负责人、主体名称发生变更的应当重新做出信用
承诺").  Schemes with ``require_credit_commitment`` gate approval on a valid one.
"""
from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import Organisation, OrgKind
from app.applications.models import Attachment
from app.core import audit, uploads
from app.core.db import db
from app.core.errors import Conflict, DomainError, NotAllowed, NotFound
from app.core.i18n import _
from app.core.timeutil import local, now
from app.credit.models import CreditCommitment

SUBJECT = "credit_commitment"

TEMPLATE = """信用承诺书

本单位 {firm}（统一社会信用代码：{uscc}）自愿作出如下承诺：
一、向政府部门、金融机构提供的全部材料真实、准确、完整，无虚假记载；
二、依法诚信经营，按合同约定用途使用贷款，按时足额偿还贷款本息，不恶意逃废债务；
三、不提供虚假增信证明，不以任何方式骗取贷款或风险补偿资金；
四、出现经营重大问题和风险时，主动向金融机构和政府部门报告；
五、自愿接受政府部门、金融机构和社会监督，本承诺书在“信用中国”网站公示；
六、如违反上述承诺，自愿接受依法依规实施的失信联合惩戒，并承担相应法律责任。
法定代表人或负责人、主体名称发生变更的，本单位将重新作出信用承诺。

承诺单位（盖章）：{firm}
法定代表人（签字）：{legal}
日期：{date}
"""


class CommitmentError(DomainError):
    pass


# ---------------------------------------------------------------------------- the PDF

def _hex(text: str) -> str:
    return "".join(f"{ord(c):04X}" if ord(c) < 0x10000 else "FF1F" for c in text)


def _lines(text: str, width: int = 34) -> list[str]:
    out = []
    for para in text.split("\n"):
        while len(para) > width:
            out.append(para[:width])
            para = para[width:]
        out.append(para)
    return out


def render_pdf(text: str) -> bytes:
    """A one-page A4 PDF of ``text`` in the standard Chinese font STSong-Light (not embedded; every PDF
    reader with the Adobe CJK fonts, and pdf.js, shows it)."""
    lines = _lines(text)
    title, body = lines[0], lines[1:]
    content = ["BT", "/F1 20 Tf", f"{297 - 10 * len(title)} 780 Td", f"<{_hex(title)}> Tj", "ET",
               "BT", "/F1 13 Tf", "72 740 Td", "22 TL"]
    content += [f"<{_hex(line)}> Tj T*" for line in body]
    content.append("ET")
    stream = "\n".join(content).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
        b"/DescendantFonts [6 0 R] >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) "
        b"/Ordering (GB1) /Supplement 2 >> /FontDescriptor 7 0 R /DW 1000 >>",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] "
        b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body_ in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body_ + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


# ---------------------------------------------------------------------------- operations

def _firm_user(user) -> Organisation:
    if not user.is_kind(OrgKind.enterprise):
        raise NotAllowed(_("只有企业可以作出信用承诺"))
    return user.organisation


def generate(user) -> tuple[CreditCommitment, bytes]:
    """A new commitment for the firm as registered now, and its PDF to sign."""
    firm = _firm_user(user)
    if not (firm.legal_representative or "").strip():
        raise CommitmentError(_("请先在“企业人员”中登记法定代表人"))
    c = CreditCommitment(enterprise_id=firm.id, firm_name=firm.name, uscc=firm.code or "",
                         legal_representative=firm.legal_representative, generated_by_id=user.id)
    db.session.add(c)
    db.session.flush()
    audit.record(SUBJECT, c.id, "commitment_generated", user, details={"legal_representative": c.legal_representative})
    return c, pdf_of(c)


def pdf_of(c: CreditCommitment) -> bytes:
    return render_pdf(TEMPLATE.format(firm=c.firm_name, uscc=c.uscc, legal=c.legal_representative,
                                      date=local(c.generated_at).date().isoformat()))


def upload_signed(user, commitment_id: int, name: str, data: bytes, written: list[str]) -> CreditCommitment:
    firm = _firm_user(user)
    c = db.session.get(CreditCommitment, commitment_id)
    if c is None or c.enterprise_id != firm.id:
        raise NotFound(_("承诺书不存在"))
    if c.status not in ("generated", "rejected"):
        raise Conflict(_("该承诺书已上传"))
    if c.lapse_reason():
        raise CommitmentError(_("企业名称或法定代表人已变更，请重新生成承诺书"))
    if not data:
        raise CommitmentError(_("请上传法定代表人签字、加盖公章的承诺书"), "file")
    uploads.inspect(data, name)
    sf = uploads.store(data, name)
    written.append(sf.stored_name)
    att = Attachment(subject_type=SUBJECT, subject_id=c.id, kind="signed_commitment", original_name=sf.original_name,
                     content_type=sf.content_type, size=sf.size, sha256=sf.sha256, stored_name=sf.stored_name,
                     uploaded_by_id=user.id)
    db.session.add(att)
    db.session.flush()
    c.attachment_id, c.uploaded_at, c.status = att.id, now(), "uploaded"
    audit.record(SUBJECT, c.id, "commitment_uploaded", user)
    return c


def decide(user, commitment_id: int, accept: bool, note: str) -> CreditCommitment:
    """The receiving unit (a financial office) confirms the signed copy or sends it back."""
    if not user.is_kind(OrgKind.financial_office):
        raise NotAllowed(_("信用承诺书由接受承诺单位（金融办）确认"))
    c = db.session.get(CreditCommitment, commitment_id)
    if c is None:
        raise NotFound(_("承诺书不存在"))
    if c.status != "uploaded":
        raise Conflict(_("该承诺书不在待确认状态"))
    note = (note or "").strip()
    if not note:
        raise CommitmentError(_("请填写意见"), "reason")
    c.status = "confirmed" if accept else "rejected"
    c.decided_by_id, c.decided_at, c.decision_note = user.id, now(), note
    audit.record(SUBJECT, c.id, "commitment_confirmed" if accept else "commitment_rejected", user, note)
    return c


def latest_confirmed(firm_id: int) -> CreditCommitment | None:
    return db.session.scalar(select(CreditCommitment).where(CreditCommitment.enterprise_id == firm_id,
                                                            CreditCommitment.status == "confirmed")
                             .order_by(CreditCommitment.id.desc()).limit(1))


def valid_for(firm: Organisation) -> CreditCommitment | None:
    c = latest_confirmed(firm.id)
    return c if c is not None and c.lapse_reason() is None else None


def gate_fact(firm: Organisation) -> tuple[bool, str]:
    """(valid, why not) for the approval gate."""
    c = latest_confirmed(firm.id)
    if c is None:
        return False, _("企业未作出经确认的信用承诺")
    why = c.lapse_reason()
    if why == "legal_representative":
        return False, _("法定代表人已由 {old} 变更为 {new}，原信用承诺失效，须重新承诺").format(
            old=c.legal_representative, new=firm.legal_representative or "—")
    if why == "name":
        return False, _("企业名称已由 {old} 变更为 {new}，原信用承诺失效，须重新承诺").format(
            old=c.firm_name, new=firm.name)
    return True, ""


def of_firm(firm_id: int) -> list[CreditCommitment]:
    return list(db.session.scalars(select(CreditCommitment).where(CreditCommitment.enterprise_id == firm_id)
                                   .order_by(CreditCommitment.id.desc())))


def pending() -> list[CreditCommitment]:
    return list(db.session.scalars(select(CreditCommitment).where(CreditCommitment.status == "uploaded")
                                   .order_by(CreditCommitment.id)))


def public(limit: int = 500) -> list[CreditCommitment]:
    rows = db.session.scalars(select(CreditCommitment).where(CreditCommitment.status == "confirmed")
                              .order_by(CreditCommitment.decided_at.desc()).limit(limit))
    seen, out = set(), []
    for c in rows:
        if c.enterprise_id not in seen and c.lapse_reason() is None:
            out.append(c)
        seen.add(c.enterprise_id)
    return out
